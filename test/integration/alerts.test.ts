/**
 * Alerts end to end: the built CLI (`sync`, `daemon`, `check --alert-test`) against the Quo
 * emulator, a real SQLite state, real HTTP receivers on 127.0.0.1 and a real SMTP server that
 * requires a login. Counts messages: one per change of state, whatever the number of runs; a
 * receiver that is down, slow or failing never changes a run or its exit status; no secret reaches
 * an alert, a mail, a log line or /metrics.
 */
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { buildAlertPayload } from "../../src/alerts/alert-payload.js";
import { ALERT_WAIT_ON_EXIT_MS } from "../../src/alerts/alerter.js";
import { sendAlert } from "../../src/alerts/send-alert.js";
import type { QuoEmulator } from "../emulators/quo-emulator.js";
import { alertCounts, startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from "./alerts-receivers.js";
import { holdLock, metric, spawnDaemon, stop, until } from "./daemons.js";
import { API_KEY, ROOT, Workspace, cliEnv, personRow, runCli, useQuoEmulator } from "./harness.js";

let emulator: QuoEmulator;
let ws: Workspace;
useQuoEmulator((e, w) => {
  emulator = e;
  ws = w;
});

const EVERY_SECOND = "*/1 * * * * *";
const OPS_TOKEN = "tok_OPS_SECRET_9z8y7x6w";
const SLACK_TOKEN = "slk_SECRET_abc123def456";
const SMTP_USER = "alerts";
const SMTP_PASSWORD = "smtp_PASS_SECRET_77q";
const CONSOLE = "https://quo-sync.example.com";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function httpReceiver(...args: Parameters<typeof startHttpReceiver>): Promise<HttpReceiver> {
  const r = await startHttpReceiver(...args);
  closers.push(() => r.close());
  return r;
}

async function smtpReceiver(): Promise<SmtpReceiver> {
  const r = await startSmtpReceiver(SMTP_USER, SMTP_PASSWORD);
  closers.push(() => r.close());
  return r;
}

/** The URL a webhook channel posts to: the token in its path is the secret. */
const opsUrl = (r: HttpReceiver) => `${r.origin}/hooks/ops/${OPS_TOKEN}`;
const slackUrl = (r: HttpReceiver) => `${r.origin}/services/T0SECRET/B0SECRET/${SLACK_TOKEN}`;
const smtpUrl = (s: SmtpReceiver) => `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${s.port}`;

const WEBHOOK = { type: "webhook", urlEnv: "OPS_WEBHOOK_URL" };
const SLACK = { type: "slack", urlEnv: "SLACK_WEBHOOK_URL" };
const EMAIL = { type: "email", smtpUrlEnv: "SMTP_URL", from: "quo-sync@example.com", to: ["ops@example.com"] };

/** Every secret of a test: none may appear in any alert, mail, log line or metric. */
function secretsOf(env: NodeJS.ProcessEnv): string[] {
  return [API_KEY, OPS_TOKEN, SLACK_TOKEN, SMTP_PASSWORD, env.OPS_WEBHOOK_URL, env.SLACK_WEBHOOK_URL, env.SMTP_URL].filter((s): s is string => Boolean(s));
}

function expectNoSecret(texts: readonly string[], env: NodeJS.ProcessEnv): void {
  const all = texts.join("\n");
  for (const s of secretsOf(env)) expect(all, `a secret (${s.slice(0, 6)}…) leaked`).not.toContain(s);
}

const events = (r: HttpReceiver) => r.requests.map((q) => q.body?.event as string);
/** A Slack message's event, from its fallback text (`quo-sync: leads failed`). */
const slackEvents = (r: HttpReceiver) => r.requests.map((q) => String(q.body?.text).replace(/^quo-sync: leads /, ""));
const mailEvents = (s: SmtpReceiver) => s.mails.map((m) => m.subject.replace(/^quo-sync: leads /, ""));

/** A row whose mobile phone Quo cannot take: rejected. */
function badRow(i: number): string[] {
  const r = personRow(i);
  r[4] = "555-12";
  return r;
}

describe("alerts from the daemon", () => {
  it("a sync failing at every tick sends ONE failed per channel, then ONE recovered when fixed; counted in /metrics; no secret anywhere", async () => {
    const [ops, slack, smtp] = [await httpReceiver(), await httpReceiver(), await smtpReceiver()];
    ws.writeConfig({ schedule: EVERY_SECOND }, { alerts: [WEBHOOK, SLACK, EMAIL] });
    // No CSV yet: every run fails reading its source.
    const env = cliEnv(emulator, { OPS_WEBHOOK_URL: opsUrl(ops), SLACK_WEBHOOK_URL: slackUrl(slack), SMTP_URL: smtpUrl(smtp), QUO_SYNC_CONSOLE_URL: CONSOLE, LOG_LEVEL: "info" });
    const d = spawnDaemon(ws.config, ws.dir, env);
    const base = await d.url();
    await until(async () => (await metric(base, 'quo_sync_runs_total{sync="leads",outcome="failed"}')) >= 6, 60_000, "six failed ticks");
    await until(() => ops.requests.length && slack.requests.length && smtp.mails.length, 20_000, "the failed alert on every channel");
    expect([events(ops), slackEvents(slack), mailEvents(smtp)]).toEqual([["failed"], ["failed"], ["failed"]]);

    const failed = ops.requests[0]!;
    expect(failed.path).toBe(`/hooks/ops/${OPS_TOKEN}`);
    expect(failed.contentType).toBe("application/json");
    expect(Object.keys(failed.body)).toEqual(["event", "sync", "workspace", "at", "run", "rejected", "console"]);
    expect(failed.body).toMatchObject({ event: "failed", sync: "leads", workspace: "default", run: { outcome: "failed", counts: null }, rejected: [], console: `${CONSOLE}/syncs/leads` });
    expect(failed.body.run.error).toContain("contacts.csv");
    expect(smtp.mails[0]).toMatchObject({ from: "quo-sync@example.com", to: ["ops@example.com"], subject: "quo-sync: leads failed" });
    expect(smtp.mails[0]!.text).toContain("Sync 'leads' (workspace 'default') failed.");
    expect(smtp.mails[0]!.text).toContain(`Console: ${CONSOLE}/syncs/leads`);
    expect(slack.requests[0]!.body.blocks[0].type).toBe("section");

    // Fixed: the next run completes.
    ws.writeCsv([personRow(1), personRow(2)]);
    await until(async () => (await metric(base, 'quo_sync_runs_total{sync="leads",outcome="ok"}')) >= 4, 60_000, "four ok ticks");
    await until(() => ops.requests.length >= 2 && slack.requests.length >= 2 && smtp.mails.length >= 2, 20_000, "the recovered alert on every channel");
    const failedTicks = await metric(base, 'quo_sync_runs_total{sync="leads",outcome="failed"}');
    expect([events(ops), slackEvents(slack), mailEvents(smtp)]).toEqual([
      ["failed", "recovered"],
      ["failed", "recovered"],
      ["failed", "recovered"],
    ]);
    expect(ops.requests[1]!.body).toMatchObject({ event: "recovered", run: { outcome: "ok", counts: { create: 2 }, error: null } });

    const metricsText = await (await fetch(`${base}/metrics`)).text();
    expect(alertCounts(metricsText)).toEqual({
      "leads/failed/webhook:OPS_WEBHOOK_URL/sent": 1,
      "leads/failed/slack:SLACK_WEBHOOK_URL/sent": 1,
      "leads/failed/email:SMTP_URL/sent": 1,
      "leads/recovered/webhook:OPS_WEBHOOK_URL/sent": 1,
      "leads/recovered/slack:SLACK_WEBHOOK_URL/sent": 1,
      "leads/recovered/email:SMTP_URL/sent": 1,
    });
    const result = await stop(d);
    expect(result.status).toBe(0);
    expect(failedTicks).toBeGreaterThanOrEqual(6);
    expectNoSecret([...ops.requests.map((r) => r.raw), ...slack.requests.map((r) => r.raw), ...smtp.mails.map((m) => m.raw), result.stderr, result.stdout, metricsText], env);
  }, 150_000);

  it("a receiver that is down neither delays nor fails the runs; the failed delivery is logged without its URL and counted", async () => {
    const gone = await startHttpReceiver();
    const url = opsUrl(gone);
    await gone.close();
    ws.writeConfig({ schedule: EVERY_SECOND }, { alerts: [WEBHOOK] });
    const env = cliEnv(emulator, { OPS_WEBHOOK_URL: url, LOG_LEVEL: "info" });
    const d = spawnDaemon(ws.config, ws.dir, env);
    const base = await d.url();
    const failedAlert = 'quo_sync_alerts_total{sync="leads",event="failed",channel="webhook:OPS_WEBHOOK_URL",result="failed"}';
    // The delivery retries for a few seconds meanwhile; the ticks go on at one a second.
    const started = Date.now();
    await until(async () => (await metric(base, 'quo_sync_runs_total{sync="leads",outcome="failed"}')) >= 4, 30_000, "four failed ticks");
    expect(Date.now() - started).toBeLessThan(15_000);
    await until(async () => (await metric(base, failedAlert)) === 1, 30_000, "the failed delivery counted");
    ws.writeCsv([personRow(1)]);
    await until(async () => (await metric(base, 'quo_sync_runs_total{sync="leads",outcome="ok"}')) >= 2, 30_000, "ok ticks with the receiver down");
    const line = await d.waitForLog((l) => String(l.msg).startsWith("alert not delivered"));
    expect(line).toMatchObject({ sync: "leads", event: "failed", channel: "webhook (OPS_WEBHOOK_URL)", attempts: 3 });
    expect(String(line.msg)).toContain("could not reach the receiver (ECONNREFUSED)");
    const metricsText = await (await fetch(`${base}/metrics`)).text();
    const result = await stop(d);
    expect(result.status).toBe(0);
    expectNoSecret([result.stderr, metricsText], env);
  }, 90_000);

  it("a sync whose lock a stopped process holds is announced stalled once; the first run after is announced recovered", async () => {
    const ops = await httpReceiver();
    ws.writeCsv([personRow(1)]);
    ws.writeConfig({ schedule: EVERY_SECOND }, { alerts: [WEBHOOK] });
    const holder = await holdLock(ws.state);
    const env = cliEnv(emulator, { OPS_WEBHOOK_URL: opsUrl(ops), LOG_LEVEL: "info" });
    const d = spawnDaemon(ws.config, ws.dir, env);
    const base = await d.url();
    try {
      await stopBetweenTransactions(holder, ws.state);
      await until(() => ops.requests.length >= 1, 30_000, "the stalled alert");
      // Ten more locked ticks: still one alert.
      const skipped = await metric(base, 'quo_sync_ticks_skipped_total{sync="leads",reason="locked"}');
      await until(async () => (await metric(base, 'quo_sync_ticks_skipped_total{sync="leads",reason="locked"}')) >= skipped + 10, 30_000, "ten more locked ticks");
      expect(events(ops)).toEqual(["stalled"]);
      expect(ops.requests[0]!.body).toMatchObject({ event: "stalled", sync: "leads", run: null, console: null });
    } finally {
      holder.kill("SIGKILL");
    }
    // The holder is gone: the next tick takes its lock over and completes.
    await until(() => ops.requests.length >= 2, 30_000, "the recovered alert");
    expect(events(ops)).toEqual(["stalled", "recovered"]);
    expect(ops.requests[1]!.body.run).toMatchObject({ outcome: "ok", counts: { create: 1 } });
    const result = await stop(d);
    expect(result.status).toBe(0);
    expectNoSecret([result.stderr], env);
  }, 90_000);
});

describe("alerts from a one-shot sync", () => {
  it("failed, nothing more while it fails, recovered (with its rejected rows), rejected for a new bad row, refused; a dry run never alerts", async () => {
    const ops = await httpReceiver();
    ws.writeConfig({}, { alerts: [WEBHOOK] });
    const env = cliEnv(emulator, { OPS_WEBHOOK_URL: opsUrl(ops) });
    const sync = (...extra: string[]) => runCli(["sync", "--config", ws.config, "--format", "json", ...extra], env, ws.dir);
    const logs: string[] = [];

    let r = await sync();
    logs.push(r.stderr);
    expect(r.status).toBe(1);
    // The command waited for its alert before exiting.
    expect(events(ops)).toEqual(["failed"]);
    r = await sync();
    logs.push(r.stderr);
    expect(r.status).toBe(1);
    expect(events(ops)).toEqual(["failed"]);

    ws.writeCsv([personRow(1), personRow(2), badRow(3)]);
    r = await sync();
    logs.push(r.stderr);
    expect(r.status, r.stderr).toBe(0);
    expect(events(ops)).toEqual(["failed", "recovered"]);
    expect(ops.requests[1]!.body.rejected).toEqual([{ key: "K3", row: 4, reason: expect.stringContaining("555-12") }]);

    // The same rejected row again: nothing new.
    r = await sync();
    expect(r.status).toBe(0);
    expect(events(ops)).toEqual(["failed", "recovered"]);

    ws.writeCsv([personRow(1), personRow(2), badRow(3), badRow(4)]);
    r = await sync();
    expect(r.status).toBe(0);
    expect(events(ops)).toEqual(["failed", "recovered", "rejected"]);
    expect(ops.requests[2]!.body.rejected.map((x: { key: string }) => x.key)).toEqual(["K3", "K4"]);

    // Half the contacts would go: the guard refuses.
    ws.writeCsv([personRow(1)]);
    r = await sync();
    logs.push(r.stderr);
    expect(r.status).toBe(3);
    expect(events(ops)).toEqual(["failed", "recovered", "rejected", "refused"]);
    expect(ops.requests[3]!.body.run.outcome).toBe("refused");

    // Dry runs record nothing and announce nothing, whatever they find.
    writeFileSync(ws.csv, "no,header,like,this\n");
    expect((await runCli(["plan", "--config", ws.config], env, ws.dir)).status).toBe(1);
    expect((await sync("--dry-run")).status).toBe(1);
    expect(events(ops)).toHaveLength(4);
    expectNoSecret([...ops.requests.map((q) => q.raw), ...logs], env);
  }, 90_000);

  it("a wrong API key: the failed alert says Quo refused it, and carries neither that key nor the right one", async () => {
    const ops = await httpReceiver();
    const smtp = await smtpReceiver();
    ws.writeCsv([personRow(1)]);
    ws.writeConfig({}, { alerts: [WEBHOOK, EMAIL] });
    const wrongKey = "qk_live_WRONG_SECRET_0e1d2c";
    const env = cliEnv(emulator, { QUO_API_KEY: wrongKey, OPS_WEBHOOK_URL: opsUrl(ops), SMTP_URL: smtpUrl(smtp), LOG_LEVEL: "info" });
    const r = await runCli(["sync", "--config", ws.config], env, ws.dir);
    expect(r.status).toBe(1);
    expect(events(ops)).toEqual(["failed"]);
    expect(ops.requests[0]!.body.run.error).toContain("401");
    expect(mailEvents(smtp)).toEqual(["failed"]);
    const texts = [...ops.requests.map((q) => q.raw), ...smtp.mails.map((m) => m.raw), r.stderr, r.stdout];
    expectNoSecret(texts, env);
    expect(texts.join("\n")).not.toContain(wrongKey);
  }, 60_000);

  it("retries a 500 then delivers; a 404 is not retried; a missing variable or a dead receiver is logged and never changes the exit status", async () => {
    const flaky = await httpReceiver({ kind: "fail", times: 2, status: 500 });
    ws.writeConfig({}, { alerts: [WEBHOOK] });
    let env = cliEnv(emulator, { OPS_WEBHOOK_URL: opsUrl(flaky), LOG_LEVEL: "info" });
    let r = await runCli(["sync", "--config", ws.config], env, ws.dir);
    expect(r.status).toBe(1);
    expect(flaky.requests.map((q) => q.body.event)).toEqual(["failed", "failed", "failed"]);
    expect(r.stderr).toContain('"msg":"alert sent"');
    expect(r.stderr).toContain('"attempts":3');

    // A fresh state each time: each run below is a first failure.
    const lost = await httpReceiver({ kind: "fail", times: 100, status: 404 });
    ws.writeConfig({ name: "crm" }, { alerts: [WEBHOOK] });
    env = cliEnv(emulator, { OPS_WEBHOOK_URL: opsUrl(lost), LOG_LEVEL: "info" });
    r = await runCli(["sync", "--config", ws.config], env, ws.dir);
    expect(r.status).toBe(1);
    expect(lost.requests).toHaveLength(1);
    expect(r.stderr).toContain("alert not delivered: the receiver answered HTTP 404");
    expectNoSecret([r.stderr], env);

    ws.writeConfig({ name: "unset" }, { alerts: [WEBHOOK] });
    r = await runCli(["sync", "--config", ws.config], cliEnv(emulator, { LOG_LEVEL: "info" }), ws.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("alert not delivered: OPS_WEBHOOK_URL is not set");

    const gone = await startHttpReceiver();
    const url = opsUrl(gone);
    await gone.close();
    ws.writeCsv([personRow(1)]);
    ws.writeConfig({ name: "down" }, { alerts: [WEBHOOK] });
    env = cliEnv(emulator, { OPS_WEBHOOK_URL: url, LOG_LEVEL: "info" });
    // A first ok run announces nothing; then a failure whose alert cannot be delivered.
    expect((await runCli(["sync", "--config", ws.config], env, ws.dir)).status).toBe(0);
    writeFileSync(ws.csv, "no,header,like,this\n");
    const started = Date.now();
    r = await runCli(["sync", "--config", ws.config], env, ws.dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("could not reach the receiver (ECONNREFUSED)");
    // Three attempts, 1 s and 2 s apart, then the command exits.
    expect(Date.now() - started).toBeLessThan(12_000);
    expectNoSecret([r.stderr], env);
  }, 90_000);

  it("a receiver that never answers: each attempt times out; a one-shot sync exits within its bound with its own status", async () => {
    const silent = await httpReceiver({ kind: "hang" });
    const payload = buildAlertPayload({ event: "test", sync: "leads", workspace: "default", at: Date.now(), run: null, rejected: [], consoleBase: undefined, secrets: [] });
    const t0 = Date.now();
    const result = await sendAlert({ type: "webhook", urlEnv: "OPS_WEBHOOK_URL", repeatAfter: "24h" }, opsUrl(silent), payload, { attemptTimeoutMs: 300, attempts: 2, backoffMs: 50 });
    expect(result).toEqual({ ok: false, attempts: 2, reason: "no answer within 0.3 s" });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(silent.requests).toHaveLength(2);

    ws.writeConfig({}, { alerts: [WEBHOOK] });
    const env = cliEnv(emulator, { OPS_WEBHOOK_URL: opsUrl(silent), LOG_LEVEL: "info" });
    const t1 = Date.now();
    const r = await runCli(["sync", "--config", ws.config], env, ws.dir);
    expect(r.status).toBe(1);
    expect(Date.now() - t1).toBeLessThan(ALERT_WAIT_ON_EXIT_MS + 8000);
    expect(r.stderr).toContain(`alerts still being delivered after ${ALERT_WAIT_ON_EXIT_MS / 1000}s were abandoned`);
    expect(r.stderr).toContain("alert not delivered: abandoned: the process was exiting");
    expectNoSecret([r.stderr], env);
  }, 60_000);
});

describe("quo-sync check and alerts", () => {
  it("reports a channel whose variable is unset; --alert-test sends `test` on each channel and fails for the one that refuses it", async () => {
    const [ops, slack, smtp] = [await httpReceiver(), await httpReceiver({ kind: "fail", times: 100, status: 404 }), await smtpReceiver()];
    ws.writeCsv([personRow(1)]);
    ws.writeConfig({}, { alerts: [WEBHOOK, SLACK, EMAIL] });
    const env = cliEnv(emulator, { OPS_WEBHOOK_URL: opsUrl(ops), SMTP_URL: smtpUrl(smtp), QUO_SYNC_CONSOLE_URL: CONSOLE });

    let r = await runCli(["check", "--config", ws.config, "--format", "json"], env, ws.dir);
    expect(r.status).toBe(1);
    const checks = JSON.parse(r.stdout).checks as { what: string; ok: boolean; message?: string }[];
    expect(checks.filter((c) => c.what.startsWith("alert channel"))).toEqual([
      { what: "alert channel webhook (OPS_WEBHOOK_URL)", ok: true },
      { what: "alert channel slack (SLACK_WEBHOOK_URL)", ok: false, message: "SLACK_WEBHOOK_URL is not set (the channel's URL is read from it)" },
      { what: "alert channel email (SMTP_URL)", ok: true },
    ]);
    expect(ops.requests).toHaveLength(0);

    const full = { ...env, SLACK_WEBHOOK_URL: slackUrl(slack) };
    r = await runCli(["check", "--config", ws.config, "--alert-test"], full, ws.dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("ok    alert channel webhook (OPS_WEBHOOK_URL): test alert");
    expect(r.stdout).toContain("FAIL  alert channel slack (SLACK_WEBHOOK_URL): test alert\n      the receiver answered HTTP 404");
    expect(r.stdout).toContain("ok    alert channel email (SMTP_URL): test alert");
    expect(ops.requests[0]!.body).toMatchObject({ event: "test", sync: "leads", run: null, console: `${CONSOLE}/syncs/leads` });
    expect(smtp.mails.map((m) => m.subject)).toEqual(["quo-sync: leads test alert"]);
    expectNoSecret([r.stdout, r.stderr], full);

    // A wrong SMTP password is a failure with the server's reason, and no password in it.
    const wrong = { ...full, SLACK_WEBHOOK_URL: opsUrl(ops), SMTP_URL: smtpUrl(smtp).replace(SMTP_PASSWORD, "nope_SECRET_x1") };
    r = await runCli(["check", "--config", ws.config, "--alert-test"], wrong, ws.dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}alert channel email \(SMTP_URL\): test alert\n {6}the mail server refused or could not be reached: .*Invalid username or password/);
    expect(r.stdout + r.stderr).not.toContain("nope_SECRET_x1");

    r = await runCli(["check", "--config", ws.config, "--alert-test"], { ...full, SLACK_WEBHOOK_URL: opsUrl(ops) }, ws.dir);
    expect(r.status, r.stdout).toBe(0);
  }, 60_000);
});


/**
 * Stops `holder` (SIGSTOP) outside any of its transactions: a process stopped inside one would hold
 * SQLite's write lock, and the daemon's runs would fail on it instead of finding the sync locked.
 */
async function stopBetweenTransactions(holder: ChildProcess, state: string): Promise<void> {
  const db = new Database(state, { timeout: 0 });
  try {
    for (let attempt = 0; ; attempt++) {
      holder.kill("SIGSTOP");
      try {
        db.prepare("BEGIN IMMEDIATE").run();
        db.prepare("COMMIT").run();
        return;
      } catch (e) {
        if (attempt > 200 || !String(e).includes("locked")) throw e;
        holder.kill("SIGCONT");
        await new Promise((r) => setTimeout(r, 3));
      }
    }
  } finally {
    db.close();
  }
}
