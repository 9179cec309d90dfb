/**
 * End to end through the built CLI: a real SQLite file, real HTTP to the Quo emulator on 127.0.0.1.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startQuoEmulator, type QuoEmulator } from "../emulators/quo-emulator.js";
import { API_KEY, CLI, Workspace, byExternalId, cliEnv, compareWithSource, personRow, reports, runCli, writes, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const sync = (...extra: string[]) => runCli(["sync", "--config", ws.config, "--format", "json", ...extra], cliEnv(emulator), ws.dir);

describe("first sync and reruns", () => {
  it("creates every valid row, rejects bad ones by row, and a rerun sends nothing", async () => {
    const rows = Array.from({ length: 30 }, (_, i) => personRow(i + 1));
    const bad = [
      ["B1", "", "NoFirst", "", "(415) 222-1111", "", ""],
      ["B2", "Bad", "Phone", "", "555-12", "", ""],
      ["B3", "Bad", "Email", "", "", "", "fran@@example.com"],
    ];
    ws.writeCsv([...rows, ...bad]);
    ws.writeConfig();

    const r1 = await sync();
    expect(r1.stderr).not.toContain("error");
    expect(r1.status).toBe(0);
    const [rep] = reports(r1.stdout);
    expect(rep.sync).toBe("leads");
    expect(rep.dryRun).toBe(false);
    expect(rep.counts).toEqual({ create: 30, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 0, rejected: 3, failed: 0, skipped: 0, filtered: 0 });
    expect(rep.rejected).toEqual([
      expect.objectContaining({ key: "B1", row: 32, field: "firstName" }),
      expect.objectContaining({ key: "B2", row: 33, field: "phoneNumbers.mobile", value: "555-12" }),
      expect.objectContaining({ key: "B3", row: 34, field: "emails.work", value: "fran@@example.com" }),
    ]);
    expect(rep.rejected[1].reason).toContain("'555-12' is not a valid phone number for US");
    expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    expect(emulator.stats().writesApplied).toEqual({ create: 30, update: 0, delete: 0 });
    const sample = byExternalId(emulator.contacts()).get("leads:K3")![0]!;
    expect(sample.source).toBe("quo-sync");
    expect(sample.defaultFields.phoneNumbers.map((p) => p.value).sort()).toEqual(["+12126000003", "+14152000003"]);

    emulator.resetStats();
    const r2 = await sync();
    expect(r2.status).toBe(0);
    expect(reports(r2.stdout)[0].counts).toEqual({ create: 0, update: 0, delete: 0, link: 0, unlink: 0, unchanged: 30, rejected: 3, failed: 0, skipped: 0, filtered: 0 });
    // An unchanged rerun costs no API call at all.
    expect(emulator.stats().requests).toBe(0);
  });

  it("an edit is one PATCH, a removed row one DELETE, and only of what changed", async () => {
    const rows = Array.from({ length: 20 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig();
    expect((await sync()).status).toBe(0);
    emulator.resetStats();

    const edited = rows.slice(0, 19).map((r) => [...r]);
    edited[4]![2] = "Renamed"; // lastName
    edited[5]![4] = "(415) 999-0006"; // mobile changes
    edited[6]![6] = "new7@example.com"; // email added (row 7 had none)
    ws.writeCsv(edited);
    const r = await sync();
    expect(r.status).toBe(0);
    const rep = reports(r.stdout)[0];
    expect(rep.counts).toEqual({ create: 0, update: 3, delete: 1, link: 0, unlink: 0, unchanged: 16, rejected: 0, failed: 0, skipped: 0, filtered: 0 });
    const stats = emulator.stats();
    expect(stats.byRoute["PATCH /v1/contacts/:id"]).toBe(3);
    expect(stats.byRoute["DELETE /v1/contacts/:id"]).toBe(1);
    expect(stats.byRoute["POST /v1/contacts"] ?? 0).toBe(0);
    const change = rep.changes.find((c: any) => c.key === "K5");
    expect(change.fields).toEqual({ lastName: { from: "Last5", to: "Renamed" } });
    expect(compareWithSource(emulator.contacts(), edited)).toEqual([]);
    // The changed phone kept its item (updated by id), not a second mobile number.
    const k6 = byExternalId(emulator.contacts()).get("leads:K6")![0]!;
    expect(k6.defaultFields.phoneNumbers.filter((p) => p.name === "mobile")).toHaveLength(1);
  });

  it("never touches contacts it did not create", async () => {
    const foreign = emulator.seedContact({ defaultFields: { firstName: "First1", lastName: "Last1", phoneNumbers: [{ id: "PHx", name: "mobile", value: "+14152000001" }] } });
    const rows = Array.from({ length: 5 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig();
    expect((await sync()).status).toBe(0);
    ws.writeCsv(rows.slice(0, 4));
    expect((await sync()).status).toBe(0);
    const still = emulator.contacts().find((c) => c.id === foreign.id);
    expect(still).toEqual(foreign);
    expect(compareWithSource(emulator.contacts(), rows.slice(0, 4))).toEqual([]);
  });

  it("re-creates a contact deleted in the Quo app when it must be updated, and a delete of a gone contact is done", async () => {
    const rows = Array.from({ length: 4 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({ maxDeletePercent: 50 });
    expect((await sync()).status).toBe(0);
    const m = byExternalId(emulator.contacts());
    emulator.appDelete(m.get("leads:K1")![0]!.id);
    emulator.appDelete(m.get("leads:K4")![0]!.id);
    const edited = rows.slice(0, 3).map((r) => [...r]);
    edited[0]![2] = "Changed";
    ws.writeCsv(edited);
    const r = await sync();
    expect(r.status).toBe(0);
    const rep = reports(r.stdout)[0];
    expect(rep.counts).toMatchObject({ update: 1, delete: 1, failed: 0 });
    expect(rep.changes.find((c: any) => c.key === "K1").note).toBe("recreated");
    expect(rep.changes.find((c: any) => c.key === "K4").note).toBe("already gone");
    expect(compareWithSource(emulator.contacts(), edited)).toEqual([]);
  });
});

describe("Quo refusing a contact", () => {
  it("reports it with Quo's message and trace and goes on with the others", async () => {
    emulator.setRefusal(({ method, body }) =>
      method === "POST" && (body as any)?.defaultFields?.firstName === "First3"
        ? { status: 409, code: "0800409", title: "Conflict", message: "Contact conflicts with an existing one" }
        : undefined,
    );
    try {
      const rows = Array.from({ length: 6 }, (_, i) => personRow(i + 1));
      ws.writeCsv(rows);
      ws.writeConfig();
      const r = await sync();
      expect(r.status).toBe(0);
      const rep = reports(r.stdout)[0];
      expect(rep.counts).toMatchObject({ create: 5, failed: 1 });
      const failed = rep.changes.find((c: any) => c.key === "K3");
      expect(failed.status).toBe("failed");
      expect(failed.error).toMatchObject({ status: 409, code: "0800409", trace: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(failed.error.message).toContain("Contact conflicts with an existing one");
      // Refused once, not retried in a loop.
      expect(emulator.stats().byStatus["409"]).toBe(1);
      expect(compareWithSource(emulator.contacts(), rows.filter((r) => r[0] !== "K3"))).toEqual([]);

      emulator.setRefusal(undefined);
      const again = reports((await sync()).stdout)[0];
      expect(again.counts).toMatchObject({ create: 1, failed: 0, unchanged: 5 });
      expect(compareWithSource(emulator.contacts(), rows)).toEqual([]);
    } finally {
      emulator.setRefusal(undefined);
    }
  });
});

describe("guards", () => {
  it("a source with no rows deletes nothing", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({ maxDeletePercent: 100 });
    expect((await sync()).status).toBe(0);
    emulator.resetStats();
    ws.writeCsv([]);
    const r = await sync();
    expect(r.status).toBe(0);
    const rep = reports(r.stdout)[0];
    expect(rep.counts.delete).toBe(0);
    expect(rep.guards).toEqual([expect.objectContaining({ guard: "empty-source", refused: false })]);
    expect(writes(emulator)).toBe(0);
    expect(emulator.contacts()).toHaveLength(10);
  });

  it("deleting over maxDeletePercent refuses the run unless --allow-deletes", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({ maxDeletePercent: 20 });
    expect((await sync()).status).toBe(0);
    emulator.resetStats();
    const remaining = rows.slice(0, 7).map((r) => [...r]);
    remaining[0]![2] = "Edited"; // a pending update must not be applied either
    ws.writeCsv(remaining);
    const refused = await sync();
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/would delete 3 of the sync's 10 contacts \(30\.0%\), over maxDeletePercent 20/);
    // Said once, not as a log line and again.
    expect(refused.stderr.match(/would delete 3 of the sync's 10 contacts/g)).toHaveLength(1);
    expect(reports(refused.stdout)[0].outcome).toBe("refused");
    expect(writes(emulator)).toBe(0);

    const allowed = await sync("--allow-deletes");
    expect(allowed.status).toBe(0);
    expect(reports(allowed.stdout)[0].counts).toMatchObject({ update: 1, delete: 3 });
    expect(compareWithSource(emulator.contacts(), remaining)).toEqual([]);
  });

  it("deletes: never keeps contacts whose rows are gone", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({ deletes: "never" });
    expect((await sync()).status).toBe(0);
    ws.writeCsv(rows.slice(0, 2));
    const r = await sync();
    expect(reports(r.stdout)[0].counts.delete).toBe(0);
    expect(emulator.contacts()).toHaveLength(10);
  });

  it("a rejected row keeps its contact: a typo never deletes", async () => {
    const rows = Array.from({ length: 5 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig({ maxDeletePercent: 100 });
    expect((await sync()).status).toBe(0);
    const typo = rows.map((r) => [...r]);
    typo[2]![4] = "not a phone";
    ws.writeCsv(typo);
    const rep = reports((await sync()).stdout)[0];
    expect(rep.counts).toMatchObject({ delete: 0, update: 0, rejected: 1 });
    expect(emulator.contacts()).toHaveLength(5);
  });
});

describe("bad input stops before any write", () => {
  it("a mapping to a column the source lacks is refused by the column's name", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig({ fields: { firstName: "First Name", phoneNumbers: { mobile: "Mobile Phone" } } });
    const r = await sync();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`syncs[0].fields.phoneNumbers.mobile: column 'Mobile Phone' is not in ${ws.csv}`);
    expect(emulator.stats().requests).toBe(0);
  });

  it("an unparseable CSV names the file and line", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    const text = readFileSync(ws.csv, "utf8") + 'K9,"Unclosed,Quote,,,,\nK10,A,B,,,,\n';
    (await import("node:fs")).writeFileSync(ws.csv, text);
    const r = await sync();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/contacts\.csv, line 3/);
    expect(emulator.stats().requests).toBe(0);
  });

  it("config errors name their path", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig({ defaultCountry: "XX", deletes: "sometimes" });
    const r = await sync();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("syncs[0].defaultCountry:");
    expect(r.stderr).toContain("syncs[0].deletes:");
  });
});

describe("auth modes and secrets", () => {
  it("works through the Maton gateway mode", async () => {
    const maton = await startQuoEmulator({ apiKeys: [], matonKeys: ["maton_SECRET_99"], requestsPerSecond: 0 });
    try {
      const rows = Array.from({ length: 3 }, (_, i) => personRow(i + 1));
      ws.writeCsv(rows);
      ws.writeConfig();
      const r = await runCli(["sync", "--config", ws.config, "--format", "json"], { PATH: process.env.PATH, MATON_API_KEY: "maton_SECRET_99", QUO_BASE_URL: maton.url, LOG_LEVEL: "debug" }, ws.dir);
      expect(r.status).toBe(0);
      expect(compareWithSource(maton.contacts(), rows)).toEqual([]);
      expect(r.stdout + r.stderr).not.toContain("maton_SECRET_99");
    } finally {
      await maton.close();
    }
  });

  it("never prints or stores the key, even on auth failure and at debug level", async () => {
    const rows = Array.from({ length: 3 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig();
    const ok = await runCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator, { LOG_LEVEL: "debug" }), ws.dir);
    expect(ok.status).toBe(0);
    const bad = await runCli(["sync", "--config", ws.config], cliEnv(emulator, { QUO_API_KEY: "WRONG_SECRET_KEY_123", LOG_LEVEL: "debug" }), ws.dir);
    ws.writeCsv([...rows, personRow(9)]);
    const bad2 = await runCli(["sync", "--config", ws.config], cliEnv(emulator, { QUO_API_KEY: "WRONG_SECRET_KEY_123", LOG_LEVEL: "trace" }), ws.dir);
    expect(bad2.status).toBe(1);
    expect(bad2.stderr).toMatch(/401/);
    for (const out of [ok.stdout, ok.stderr, bad.stdout, bad.stderr, bad2.stdout, bad2.stderr]) {
      expect(out).not.toContain(API_KEY);
      expect(out).not.toContain("WRONG_SECRET_KEY_123");
    }
    const db = readFileSync(ws.state);
    expect(db.includes(API_KEY)).toBe(false);
    expect(db.includes("WRONG_SECRET_KEY_123")).toBe(false);
  });

  it("with two workspaces and two keys, neither key appears in output, reports, the state file or errors, even on a 401", async () => {
    const EAST_KEY = "qk_east_SECRET_d41c9e";
    const WRONG_KEY = "qk_wrong_SECRET_8a8a8a";
    const secrets = [API_KEY, EAST_KEY, WRONG_KEY];
    const east = await startQuoEmulator({ apiKeys: [EAST_KEY], requestsPerSecond: 0 });
    try {
      const rows = Array.from({ length: 3 }, (_, i) => personRow(i + 1));
      ws.writeCsv(rows);
      const sync = (name: string, workspace: string) => ({
        name,
        workspace,
        source: { type: "csv", path: "contacts.csv" },
        key: "id",
        fields: { firstName: "First Name", lastName: "Last Name", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
      });
      writeFileSync(
        ws.config,
        JSON.stringify({
          state: ws.state,
          quo: { requestsPerSecond: 50 },
          workspaces: { west: { apiKeyEnv: "WEST_QUO_API_KEY", baseUrl: emulator.url }, east: { apiKeyEnv: "EAST_QUO_API_KEY", baseUrl: east.url } },
          syncs: [sync("west-leads", "west"), sync("east-leads", "east")],
        }),
      );
      const good = { PATH: process.env.PATH, WEST_QUO_API_KEY: API_KEY, EAST_QUO_API_KEY: EAST_KEY, LOG_LEVEL: "trace" };
      const bad = { ...good, EAST_QUO_API_KEY: WRONG_KEY };
      const cli = (args: string[], env: NodeJS.ProcessEnv) => runCli([...args, "--config", ws.config], env, ws.dir);
      const outputs: string[] = [];
      const files: string[] = [];
      const keep = (r: { stdout: string; stderr: string }) => outputs.push(r.stdout, r.stderr);

      const first = await cli(["sync", "--format", "json"], good);
      expect(first.status, first.stderr).toBe(0);
      expect(compareWithSource(emulator.contacts(), rows, "west-leads")).toEqual([]);
      expect(compareWithSource(east.contacts(), rows, "east-leads")).toEqual([]);
      keep(first);
      ws.writeCsv([...rows.slice(1), personRow(1, 1), personRow(9)]);
      for (const format of ["table", "json", "markdown", "html"]) {
        const file = path.join(ws.dir, `plan.${format}`);
        keep(await cli(["plan", "--format", format, "--out", file], good));
        files.push(file);
      }
      keep(await cli(["plan", "--format", "json"], good));
      // East's key is refused: its sync fails with a 401 in every format; west's still syncs.
      for (const format of ["table", "json", "markdown", "html"]) {
        const file = path.join(ws.dir, `sync.${format}`);
        const r = await cli(["sync", "--format", format, "--out", file], bad);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("Quo API error (workspace 'east'): ");
        expect(r.stderr).toMatch(/401/);
        keep(r);
        files.push(file);
      }
      for (const args of [["status"], ["status", "--format", "json"], ["check"], ["check", "--format", "json"], ["fields"], ["fields", "--format", "json"]]) {
        keep(await cli(args, bad));
      }
      const last = await cli(["sync", "--format", "json"], good);
      expect(last.status).toBe(0);
      keep(last);

      // At trace level every request is logged (method, URL, status): what a leak would ride on.
      expect(outputs.join("\n")).toContain('"msg":"Quo request"');
      for (const out of [...outputs, ...files.map((f) => readFileSync(f, "utf8"))]) {
        for (const key of secrets) expect(out).not.toContain(key);
      }
      for (const f of [ws.state, `${ws.state}-wal`, `${ws.state}-shm`]) {
        if (!existsSync(f)) continue;
        const db = readFileSync(f);
        for (const key of secrets) expect(db.includes(key), `${path.basename(f)} holds a key`).toBe(false);
      }
    } finally {
      await east.close();
    }
  });

  it("without a key it says which variable to set", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    const r = await runCli(["sync", "--config", ws.config], { PATH: process.env.PATH }, ws.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/QUO_API_KEY/);
  });
});

describe("the command line", () => {
  it("--version and --help work for every command", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    const v = await runCli(["--version"], cliEnv(emulator), ws.dir);
    expect(v.stdout.trim()).toBe(pkg.version);
    for (const cmd of ["sync", "plan", "status", "fields", "daemon"]) {
      const h = await runCli([cmd, "--help"], cliEnv(emulator), ws.dir);
      expect(h.status).toBe(0);
      expect(h.stdout).toContain(`Usage: quo-sync ${cmd}`);
      expect(h.stdout).toContain("--config");
    }
  });

  it("draws a progress bar on a terminal, and none when stderr is not one", async () => {
    const rows = Array.from({ length: 60 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig();
    const piped = await runCli(["sync", "--config", ws.config, "--dry-run"], cliEnv(emulator), ws.dir);
    expect(piped.stderr).not.toMatch(/writes/);
    // `script` gives the CLI a pseudo-terminal, as a person's shell would.
    const command = [process.execPath, CLI, "sync", "--config", ws.config].map((a) => `'${a}'`).join(" ");
    const tty = await new Promise<string>((resolve) => {
      const child = spawn("script", ["-qfec", command, "/dev/null"], { env: cliEnv(emulator), cwd: ws.dir });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("close", () => resolve(out));
    });
    expect(tty).toMatch(/leads \[.*\] \d+\/60 writes/);
    expect(tty).toContain("did create 60");
  });
});

describe("plan", () => {
  it("reports what sync would do and writes nothing anywhere", async () => {
    const rows = Array.from({ length: 6 }, (_, i) => personRow(i + 1));
    ws.writeCsv(rows);
    ws.writeConfig();
    const p = await runCli(["plan", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
    expect(p.status).toBe(0);
    const rep = reports(p.stdout)[0];
    expect(rep.dryRun).toBe(true);
    expect(rep.counts.create).toBe(6);
    expect(rep.changes[0]).toMatchObject({ action: "create", key: "K1", fields: { firstName: { from: null, to: "First1" } } });
    expect(emulator.stats().requests).toBe(0);
    expect((await import("node:fs")).existsSync(ws.state)).toBe(false);

    const s = await sync();
    expect(reports(s.stdout)[0].counts).toEqual({ ...rep.counts, failed: 0, skipped: 0, filtered: 0 });
    const again = await runCli(["plan", "--config", ws.config, "--detailed-exitcode"], cliEnv(emulator), ws.dir);
    expect(again.status).toBe(0);
    ws.writeCsv(rows.slice(0, 5));
    const pending = await runCli(["plan", "--config", ws.config, "--detailed-exitcode"], cliEnv(emulator), ws.dir);
    expect(pending.status).toBe(2);
    expect(pending.stdout).toContain("would create 0, update 0, delete 1");
  });
});


describe("reports and logs", () => {
  it("a --out that cannot be written after a real run: the report goes to stdout and the error names --out", async () => {
    ws.writeCsv([personRow(1), personRow(2)]);
    ws.writeConfig();
    const out = path.join(ws.dir, "no-such-folder", "report.json");
    const r = await sync("--out", out);
    expect(r.status).toBe(1);
    expect(reports(r.stdout)[0].counts).toMatchObject({ create: 2 });
    expect(r.stderr).toContain(`--out ${out}: cannot write the report there`);
    expect(r.stderr).toContain("it was printed to stdout instead");
    expect(emulator.stats().writesApplied.create).toBe(2);
  });

  it("LOG_LEVEL from the working directory's .env is honoured", async () => {
    ws.writeCsv([personRow(1)]);
    ws.writeConfig();
    writeFileSync(path.join(ws.dir, ".env"), "LOG_LEVEL=debug\n");
    const { LOG_LEVEL: _level, ...env } = cliEnv(emulator);
    const r = await runCli(["sync", "--config", ws.config, "--format", "json"], env, ws.dir);
    expect(r.status).toBe(0);
    const levels = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).level as number);
    expect(levels).toContain(20); // pino's debug
  });
});
