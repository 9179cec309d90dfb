/**
 * The `alerts` setting: channels validated at load with errors naming their path (and the key that
 * was probably meant), defaults filled, durations parsed, and the shipped JSON Schema up to date.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_DURATION_MS, parseDuration } from "../../src/duration.js";
import { configJsonSchema, parseConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";

const ROOT = path.join(__dirname, "..", "..");
const base = { syncs: [{ name: "leads", source: { type: "csv", path: "x.csv" }, key: "id", fields: { firstName: "F" } }] };

function errorOf(alerts: unknown): string {
  try {
    parseConfig({ ...base, alerts }, "quo-sync.config.json");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("alerts in the config", () => {
  it("accepts the three channel types and fills the defaults (every event, repeatAfter 24h)", () => {
    const c = parseConfig({
      ...base,
      alerts: [
        { type: "slack", urlEnv: "SLACK_WEBHOOK_URL" },
        { type: "webhook", urlEnv: "OPS_WEBHOOK_URL", on: ["failed", "recovered"], repeatAfter: "30m" },
        { type: "email", smtpUrlEnv: "SMTP_URL", from: "quo-sync@example.com", to: ["ops@example.com", "b@example.org"] },
      ],
    });
    expect(c.alerts).toEqual([
      { type: "slack", urlEnv: "SLACK_WEBHOOK_URL", repeatAfter: "24h" },
      { type: "webhook", urlEnv: "OPS_WEBHOOK_URL", on: ["failed", "recovered"], repeatAfter: "30m" },
      { type: "email", smtpUrlEnv: "SMTP_URL", from: "quo-sync@example.com", to: ["ops@example.com", "b@example.org"], repeatAfter: "24h" },
    ]);
    expect(parseConfig(base).alerts).toEqual([]);
  });

  it.each([
    { alerts: [{ type: "webhook", urlEnv: "OPS" }, { type: "slack", urlEnv: "https://hooks.slack.com/services/T/B/X" }], says: "alerts[1].urlEnv: the name of an environment variable" },
    { alerts: [{ type: "webhook", url: "OPS_WEBHOOK_URL" }], says: "alerts[0].url: unknown key; did you mean 'urlEnv'?" },
    { alerts: [{ type: "slack", urlEnv: "S", repeatafter: "1h" }], says: "alerts[0].repeatafter: unknown key; did you mean 'repeatAfter'?" },
    { alerts: [{ type: "email", smtpUrl: "SMTP_URL", from: "a@example.com", to: ["b@example.com"] }], says: "alerts[0].smtpUrl: unknown key; did you mean 'smtpUrlEnv'?" },
    { alerts: [{ type: "webhook", urlEnv: "OPS", repeatAfter: "1.5h" }], says: "alerts[0].repeatAfter: not a duration: give a whole number and a unit: s, m, h or d (e.g. 30m, 24h, 2d)" },
    { alerts: [{ type: "webhook", urlEnv: "OPS", on: ["failed", "fialed"] }], says: "alerts[0].on[1]: one of failed, refused, stalled, rejected, recovered" },
    { alerts: [{ type: "webhook", urlEnv: "OPS", on: [] }], says: "alerts[0].on: list at least one event" },
    { alerts: [{ type: "webhook", urlEnv: "OPS", on: ["failed", "failed"] }], says: "alerts[0].on: list each event at most once" },
    { alerts: [{ type: "email", smtpUrlEnv: "SMTP_URL", from: "quo-sync", to: [] }], says: "alerts[0].from: not an email address" },
    { alerts: [{ type: "email", smtpUrlEnv: "SMTP_URL", from: "a@example.com", to: [] }], says: "alerts[0].to: list at least one recipient" },
    { alerts: [{ type: "pager", urlEnv: "P" }], says: 'alerts[0].type: a channel\'s "type" is one of webhook, slack, email' },
  ])("$says", ({ alerts, says }) => {
    expect(errorOf(alerts)).toContain(says);
  });

  it("the committed quo-sync.schema.json is the one the schema generates, with the alerts and their examples", () => {
    const committed = JSON.parse(readFileSync(path.join(ROOT, "quo-sync.schema.json"), "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify({ ...configJsonSchema(), title: "quo-sync config" })));
    const alerts = committed.properties.alerts;
    expect(alerts.examples[0]).toHaveLength(3);
    expect(JSON.stringify(alerts)).toContain("SLACK_WEBHOOK_URL");
  });
});

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["30m", 1_800_000],
    ["24h", 86_400_000],
    ["2d", 172_800_000],
    ["366d", MAX_DURATION_MS],
  ])("%s → %d", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "24", "h", "0h", "1.5h", "1h30m", " 24h", "24 h", "24H", "-1h", "367d", "1w", "01h"])("%j is refused", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
