/**
 * Contacts already in Quo (`match`): a first run against a workspace that holds some of the
 * source's people links to them instead of creating twins, shows every link and conflict in the
 * plan before anything is written, and keeps what people set on linked contacts.
 */
import { describe, expect, it } from "vitest";
import type { EmulatedContact, QuoEmulator } from "../emulators/quo-emulator.js";
import { Workspace, byExternalId, cliEnv, compareWithSource, personRow, reports, runCli, startCli, useQuoEmulator, writes } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const MATCH = { match: { by: ["phone", "email"] } };
const cli = (cmd: string, ...extra: string[]) => runCli([cmd, "--config", ws.config, "--format", "json", ...extra], cliEnv(emulator), ws.dir);

/** personRow(i)'s mobile number in E.164. */
const mobileOf = (i: number): string => `+1415${200 + (Math.floor(i / 10000) % 700)}${String(i % 10000).padStart(4, "0")}`;

/** The contacts people made before the first sync, of every origin the workspace can hold. */
function seedWorkspace(): Record<string, EmulatedContact> {
  return {
    // Saved in the app: no source. Its number is row 1's, under another label, with a note.
    app: emulator.seedContact({ source: null, defaultFields: { firstName: "Pat", role: "Owner", phoneNumbers: [{ id: "", name: "main", value: mobileOf(1) }], emails: [{ id: "", name: "home", value: "pat@home.example" }] } }),
    // Quo's own CSV import, found by row 2's email (case differs).
    imported: emulator.seedContact({ source: "csv", defaultFields: { firstName: "Person2", emails: [{ id: "", name: "work", value: "PERSON2@example.com" }] } }),
    // A native integration's contact (read-only) with row 3's number.
    integration: emulator.seedContact({ source: "hubspot", readOnly: true, defaultFields: { firstName: "Hub", phoneNumbers: [{ id: "", name: "mobile", value: mobileOf(3) }] } }),
    // Another tool's contact with row 4's number.
    foreign: emulator.seedContact({ source: "zapier", externalId: "zap-4", defaultFields: { firstName: "Zap", phoneNumbers: [{ id: "", name: "mobile", value: mobileOf(4) }] } }),
    // Two app contacts with row 5's number: ambiguous.
    twinA: emulator.seedContact({ source: null, defaultFields: { firstName: "A", phoneNumbers: [{ id: "", name: "mobile", value: mobileOf(5) }] } }),
    twinB: emulator.seedContact({ source: null, defaultFields: { firstName: "B", phoneNumbers: [{ id: "", name: "home", value: mobileOf(5) }] } }),
  };
}

describe("match: contacts already in Quo", () => {
  it("plan shows every link and conflict first; sync links, creates no twin, leaves others' contacts alone, and keeps what people set", async () => {
    const seeded = seedWorkspace();
    const rows = Array.from({ length: 8 }, (_, i) => personRow(i + 1));
    // Rows 7 and 8 both carry the same new email as an app contact: one contact claimed by two rows.
    const shared = emulator.seedContact({ source: null, defaultFields: { firstName: "Shared", emails: [{ id: "", name: "work", value: "shared@example.com" }] } });
    rows[6]![4] = "";
    rows[6]![6] = "shared@example.com";
    rows[7]![4] = "";
    rows[7]![6] = "Shared@example.com";
    ws.writeCsv(rows);
    ws.writeConfig(MATCH);
    const before = emulator.contacts();

    emulator.resetStats();
    const planned = reports((await cli("plan")).stdout)[0];
    expect(emulator.stats().writesApplied).toEqual({ create: 0, update: 0, delete: 0 });
    expect(emulator.stats().byRoute["GET /v1/contacts"]).toBe(1); // 7 contacts: one page
    expect(planned.counts).toMatchObject({ create: 1, link: 2, rejected: 5, update: 0, delete: 0 });
    const links = planned.changes.filter((c: any) => c.action === "link");
    expect(links.map((c: any) => [c.key, c.quoId, c.match])).toEqual([
      ["K1", seeded.app!.id, { by: "phone", value: mobileOf(1) }],
      ["K2", seeded.imported!.id, { by: "email", value: "person2@example.com" }],
    ]);
    const reasons = new Map(planned.rejected.map((r: any) => [r.key, r.reason]));
    expect(reasons.get("K3")).toContain(`${seeded.integration!.id} (source 'hubspot')`);
    expect(reasons.get("K4")).toContain("externalId 'zap-4' of another sync or tool");
    expect(reasons.get("K5")).toMatch(new RegExp(`matches 2 Quo contacts by phone: ${seeded.twinA!.id}.*${seeded.twinB!.id}`));
    expect(reasons.get("K7")).toContain(`matches Quo contact ${shared.id} by email shared@example.com, which row 9 (key 'K8') matches too`);
    expect(reasons.get("K8")).toContain("which row 8 (key 'K7') matches too");

    emulator.resetStats();
    const r = await cli("sync");
    expect(r.status, r.stderr).toBe(0);
    const done = reports(r.stdout)[0];
    expect(done.counts).toEqual({ create: 1, update: 0, delete: 0, link: 2, unlink: 0, unchanged: 0, rejected: 5, failed: 0, skipped: 0, filtered: 0 });
    expect(emulator.stats().writesApplied).toEqual({ create: 1, update: 2, delete: 0 });

    const now = new Map(emulator.contacts().map((c) => [c.id, c]));
    // The app contact is now row 1's: the sync's fields, its externalId, its number once (the
    // person's "main" item became the sync's mobile), and what the person set is still there.
    const app = now.get(seeded.app!.id)!;
    expect(app.externalId).toBe("leads:K1");
    expect(app.defaultFields.firstName).toBe("First1");
    expect(app.defaultFields.role).toBe("Owner");
    expect(app.defaultFields.phoneNumbers.filter((p) => p.value === mobileOf(1))).toEqual([{ id: seeded.app!.defaultFields.phoneNumbers[0]!.id, name: "mobile", value: mobileOf(1) }]);
    expect(app.defaultFields.emails).toContainEqual(seeded.app!.defaultFields.emails[0]);
    // The imported contact's email item became the sync's; no second copy of it.
    const imported = now.get(seeded.imported!.id)!;
    expect(imported.externalId).toBe("leads:K2");
    expect(imported.defaultFields.emails.map((e) => e.value?.toLowerCase())).toEqual(["person2@example.com"]);
    // Everyone else's contacts are exactly as they were.
    for (const c of before) if (c.id !== seeded.app!.id && c.id !== seeded.imported!.id) expect(now.get(c.id)).toEqual(c);
    // No twin: one contact per synced key.
    expect([...byExternalId(emulator.contacts()).values()].every((l) => l.length === 1)).toBe(true);
    expect(compareWithSource(emulator.contacts().filter((c) => c.externalId?.startsWith("leads:")), [rows[0]!, rows[1]!, rows[5]!], "leads", new Set(["home", "main"]))).toEqual([]);

    // A rerun writes nothing. While rows wait on a conflict a person must resolve, each run lists
    // the workspace again (one page here) to see whether it was.
    emulator.resetStats();
    const again = await cli("sync");
    expect(reports(again.stdout)[0].counts).toMatchObject({ create: 0, link: 0, update: 0, rejected: 5 });
    expect(emulator.stats().byRoute["GET /v1/contacts"]).toBe(1);
    expect(writes(emulator)).toBe(0);
  });

  it("mirror never deletes a linked contact: its row leaving the source unlinks it", async () => {
    const app = emulator.seedContact({ source: null, defaultFields: { firstName: "Pat", phoneNumbers: [{ id: "", name: "main", value: mobileOf(1) }] } });
    const rows = [personRow(1), personRow(2), personRow(3), personRow(4), personRow(5)];
    ws.writeCsv(rows);
    ws.writeConfig({ ...MATCH, maxDeletePercent: 50 });
    expect(reports((await cli("sync")).stdout)[0].counts).toMatchObject({ link: 1, create: 4 });
    // With nothing left to create, a rerun neither lists the workspace nor sends anything.
    emulator.resetStats();
    expect(reports((await cli("sync")).stdout)[0].counts).toMatchObject({ link: 0, create: 0, unchanged: 5 });
    expect(emulator.stats().requests).toBe(0);

    ws.writeCsv(rows.slice(1, 4));
    emulator.resetStats();
    const r = await cli("sync");
    expect(r.status, r.stderr).toBe(0);
    const rep = reports(r.stdout)[0];
    expect(rep.counts).toMatchObject({ delete: 1, unlink: 1 });
    expect(rep.changes.find((c: any) => c.action === "unlink")).toMatchObject({ key: "K1", quoId: app.id });
    expect(emulator.stats().byRoute["DELETE /v1/contacts/:id"]).toBe(1);
    expect(emulator.contacts().find((c) => c.id === app.id)).toBeDefined();

    // Forgotten: the next run has nothing to do with it.
    emulator.resetStats();
    expect(reports((await cli("sync")).stdout)[0].counts).toMatchObject({ delete: 0, unlink: 0, link: 0, create: 0 });
    expect(writes(emulator)).toBe(0);
  });

  it("kill -9 while linking converges with every contact linked once and nothing duplicated", async () => {
    const N = 60;
    const rows = Array.from({ length: N }, (_, i) => personRow(i + 1));
    const seeded = rows.map((_, i) => emulator.seedContact({ source: null, defaultFields: { firstName: `App${i + 1}`, phoneNumbers: [{ id: "", name: "main", value: mobileOf(i + 1) }] } }));
    ws.writeCsv(rows);
    ws.writeConfig(MATCH, { quo: { requestsPerSecond: 100 } });
    emulator.setLatency(10);
    let killed = 0;
    for (let attempt = 0; attempt < 4; attempt++) {
      const target = writes(emulator) + 5 + attempt * 3;
      const { child, done } = startCli(["sync", "--config", ws.config, "--format", "json"], cliEnv(emulator), ws.dir);
      const timer = setInterval(() => {
        if (writes(emulator) >= target) child.kill("SIGKILL");
      }, 2);
      const r = await done;
      clearInterval(timer);
      if (r.signal === "SIGKILL") killed++;
    }
    emulator.setLatency(0);
    const final = await cli("sync");
    expect(final.status, final.stderr).toBe(0);
    expect(killed).toBeGreaterThan(0);
    expect(emulator.contacts()).toHaveLength(N);
    const now = new Map(emulator.contacts().map((c) => [c.id, c]));
    for (const [i, s] of seeded.entries()) {
      const c = now.get(s.id)!;
      expect(c.externalId).toBe(`leads:K${i + 1}`);
      expect(c.defaultFields.phoneNumbers.filter((p) => p.value === mobileOf(i + 1))).toHaveLength(1);
    }
    emulator.resetStats();
    expect(reports((await cli("sync")).stdout)[0].counts).toMatchObject({ create: 0, link: 0, update: 0 });
    expect(writes(emulator)).toBe(0);
  });
});
