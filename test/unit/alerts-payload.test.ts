/**
 * What an alert says: the webhook JSON exactly as documented, the Slack message and the mail with
 * the same facts, the console link, and no secret the process knows in any of them.
 */
import { describe, expect, it } from "vitest";
import { alertLines, alertSubject, buildAlertPayload, consoleUrl, slackMessage, ALERT_REJECTED_LIMIT } from "../../src/alerts/alert-payload.js";
import { alertSecrets } from "../../src/alerts/alerter.js";
import { addressSecrets } from "../../src/alerts/send-alert.js";
import { parseConfig } from "../../src/config.js";
import type { RunRecord } from "../../src/state/store.js";

const API_KEY = "qk_live_SECRET_4f7d2c9a1b";
const HOOK = "https://hooks.slack.com/services/T0000/B0000/XXXXsecrettoken";
const SMTP = "smtps://alerts:sm7p-pa55word@mail.example.com:465";

const config = parseConfig({
  alerts: [
    { type: "slack", urlEnv: "SLACK_WEBHOOK_URL" },
    { type: "email", smtpUrlEnv: "SMTP_URL", from: "quo-sync@example.com", to: ["ops@example.com"] },
  ],
  syncs: [{ name: "leads", source: { type: "csv", path: "x.csv" }, key: "id", fields: { firstName: "F" } }],
});
const env = { QUO_API_KEY: API_KEY, SLACK_WEBHOOK_URL: HOOK, SMTP_URL: SMTP, QUO_BASE_URL: "http://127.0.0.1:4010" };

const failed: RunRecord = {
  id: 42,
  sync: "leads",
  startedAt: Date.parse("2026-12-01T10:00:00Z"),
  endedAt: Date.parse("2026-12-01T10:00:05Z"),
  outcome: "failed",
  counts: { create: 1, update: 0 },
  error: `request to ${HOOK} failed; key ${API_KEY}; smtp ${SMTP}`,
  trigger: "schedule",
};

describe("buildAlertPayload", () => {
  const rejected = Array.from({ length: 12 }, (_, i) => ({ key: `K${i}`, row: i + 2, field: "phone", value: "555", reason: `phoneNumbers.mobile: '555' is not a valid phone number (${i})` }));

  it("is the documented JSON: event, sync, workspace, at, run, the first 10 rejected rows, console", () => {
    const p = buildAlertPayload({ event: "failed", sync: "leads", workspace: "default", at: Date.parse("2026-12-01T10:00:06Z"), run: failed, rejected, consoleBase: "https://console.example.com/", secrets: alertSecrets(config, env) });
    expect(Object.keys(p)).toEqual(["event", "sync", "workspace", "at", "run", "rejected", "console"]);
    expect(p).toMatchObject({ event: "failed", sync: "leads", workspace: "default", at: "2026-12-01T10:00:06.000Z", console: "https://console.example.com/syncs/leads" });
    expect(Object.keys(p.run!)).toEqual(["id", "outcome", "counts", "error"]);
    expect(p.run).toMatchObject({ id: 42, outcome: "failed", counts: { create: 1, update: 0 } });
    expect(p.rejected).toHaveLength(ALERT_REJECTED_LIMIT);
    expect(p.rejected[0]).toEqual({ key: "K0", row: 2, reason: "phoneNumbers.mobile: '555' is not a valid phone number (0)" });
    // The raw value and field stay in the state: the reason says enough.
    expect(Object.keys(p.rejected[0]!)).toEqual(["key", "row", "reason"]);
  });

  it("scrubs every secret from the run's error, in every channel's rendering", () => {
    const p = buildAlertPayload({ event: "failed", sync: "leads", workspace: "default", at: 0, run: failed, rejected: [], consoleBase: undefined, secrets: alertSecrets(config, env) });
    expect(p.run!.error).toContain("[redacted]");
    const rendered = [JSON.stringify(p), JSON.stringify(slackMessage(p)), alertLines(p).join("\n"), alertSubject(p)].join("\n");
    for (const secret of [API_KEY, HOOK, "XXXXsecrettoken", "/services/T0000/B0000/XXXXsecrettoken", SMTP, "sm7p-pa55word"]) expect(rendered).not.toContain(secret);
    expect(p.console).toBeNull();
  });

  it("tells a test alert and a stall without a run", () => {
    const p = buildAlertPayload({ event: "stalled", sync: "leads", workspace: "west", at: 0, run: null, rejected: [], consoleBase: undefined, secrets: [] });
    expect(p.run).toBeNull();
    expect(alertSubject(p)).toBe("quo-sync: leads stalled");
    expect(alertLines(p)[0]).toBe("Sync 'leads' (workspace 'west') has stalled: no run completed for three of its schedule intervals.");
    expect(alertSubject({ ...p, event: "test" })).toBe("quo-sync: leads test alert");
  });
});

describe("the renderings", () => {
  const p = buildAlertPayload({ event: "failed", sync: "leads", workspace: "default", at: Date.parse("2026-12-01T10:00:06Z"), run: { ...failed, error: "source error: contacts.csv <missing> & gone" }, rejected: [{ key: "K1", row: 3, reason: "bad phone" }], consoleBase: "https://c.example.com", secrets: [] });

  it("a mail's subject and body hold the facts", () => {
    expect(alertSubject(p)).toBe("quo-sync: leads failed");
    expect(alertLines(p)).toEqual([
      "Sync 'leads' (workspace 'default') failed.",
      "At: 2026-12-01T10:00:06.000Z",
      "Run: #42, failed",
      "Counts: create 1",
      "Error: source error: contacts.csv <missing> & gone",
      "Rejected rows:",
      "  - row 3 (key K1): bad phone",
      "Console: https://c.example.com/syncs/leads",
    ]);
  });

  it("Slack: a fallback text and one mrkdwn section, escaped", () => {
    const m = slackMessage(p);
    expect(m.text).toBe("quo-sync: leads failed");
    expect(m.blocks).toHaveLength(1);
    const text = (m.blocks[0] as { text: { type: string; text: string } }).text;
    expect(text.type).toBe("mrkdwn");
    expect(text.text).toContain("*Sync 'leads' (workspace 'default') failed.*");
    expect(text.text).toContain("contacts.csv &lt;missing&gt; &amp; gone");
  });
});

describe("consoleUrl and addressSecrets", () => {
  it.each([
    [undefined, null],
    ["", null],
    ["https://c.example.com", "https://c.example.com/syncs/a%20b"],
    ["https://c.example.com/ops/", "https://c.example.com/ops/syncs/a%20b"],
  ])("%s → %s", (base, url) => expect(consoleUrl(base, "a b")).toBe(url));

  it("a channel's address hides itself, its password, user, path and path segments", () => {
    expect(addressSecrets(SMTP)).toEqual(expect.arrayContaining([SMTP, "sm7p-pa55word", "alerts"]));
    expect(addressSecrets(HOOK)).toEqual(expect.arrayContaining([HOOK, "/services/T0000/B0000/XXXXsecrettoken", "XXXXsecrettoken"]));
    expect(addressSecrets("not a url")).toEqual(["not a url"]);
  });

  it("alertSecrets takes key-like variables and channel addresses, not the plain settings", () => {
    const s = alertSecrets(config, env);
    expect(s).toEqual(expect.arrayContaining([API_KEY, HOOK, SMTP, "sm7p-pa55word"]));
    expect(s).not.toContain("http://127.0.0.1:4010");
  });
});
