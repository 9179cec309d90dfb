/**
 * The config of triggers: `source.watch` (CSV only) and the top-level `webhooks`, and how the daemon
 * reads the secrets and public URL they need from the environment.
 */
import { describe, expect, it } from "vitest";
import { parseConfig, type LoadedConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { hasTriggers, publicUrlOf, watchedSyncs, webhookSecrets } from "../../src/triggers/triggers.js";

const sync = (source: Record<string, unknown>) => ({ name: "leads", source, key: "id", fields: { firstName: "First Name" } });

function errorOf(data: unknown): string {
  try {
    parseConfig(data, "quo-sync.config.json");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

const loaded = (data: unknown): LoadedConfig => ({ config: parseConfig(data), file: "/etc/quo-sync/quo-sync.config.json", baseDir: "/etc/quo-sync" });

describe("trigger config", () => {
  it("watch is a CSV source's boolean; elsewhere it is refused naming the setting", () => {
    expect(parseConfig({ syncs: [sync({ type: "csv", path: "a.csv", watch: true })] }).syncs[0]!.source).toMatchObject({ watch: true });
    expect(errorOf({ syncs: [sync({ type: "csv", path: "a.csv", watch: "yes" })] })).toMatch(/syncs\[0\]\.source\.watch/);
    expect(errorOf({ syncs: [sync({ type: "hubspot", watch: true })] })).toMatch(/syncs\[0\]\.source\.watch: only a CSV source can be watched/);
    expect(errorOf({ syncs: [sync({ type: "google-sheets", spreadsheetId: "x", range: "Sheet1", watch: true })] })).toMatch(/only a CSV source can be watched/);
  });

  it("webhooks name environment variables, HubSpot's once (clientSecretEnv or secretEnv)", () => {
    const c = parseConfig({ webhooks: { hubspot: { clientSecretEnv: "HS" }, quo: { secretEnv: "Q" } }, syncs: [sync({ type: "csv", path: "a.csv" })] });
    expect(c.webhooks).toEqual({ hubspot: { clientSecretEnv: "HS" }, quo: { secretEnv: "Q" } });
    expect(parseConfig({ webhooks: { hubspot: { secretEnv: "HS" } }, syncs: [sync({ type: "csv", path: "a.csv" })] }).webhooks.hubspot).toEqual({ secretEnv: "HS" });
    expect(parseConfig({ syncs: [sync({ type: "csv", path: "a.csv" })] }).webhooks).toEqual({});
    expect(errorOf({ webhooks: { hubspot: {} }, syncs: [sync({ type: "csv", path: "a.csv" })] })).toMatch(/webhooks\.hubspot.*clientSecretEnv/);
    expect(errorOf({ webhooks: { hubspot: { clientSecretEnv: "A", secretEnv: "B" } }, syncs: [sync({ type: "csv", path: "a.csv" })] })).toMatch(/once/);
    expect(errorOf({ webhooks: { quo: { secretEnv: "whsec_abc def" } }, syncs: [sync({ type: "csv", path: "a.csv" })] })).toMatch(/webhooks\.quo\.secretEnv: the name of an environment variable/);
    expect(errorOf({ webhooks: { quo: { secret: "whsec_x" } }, syncs: [sync({ type: "csv", path: "a.csv" })] })).toMatch(/webhooks\.quo\.secret: unknown key/);
  });

  it("secrets come from the named variables; an unset one names the variable, never a value", () => {
    const l = loaded({ webhooks: { hubspot: { clientSecretEnv: "HS" }, quo: { secretEnv: "Q" } }, syncs: [sync({ type: "csv", path: "a.csv", watch: true })] });
    expect(webhookSecrets(l, { HS: "hs-secret", Q: " whsec_abc " })).toEqual({ hubspot: "hs-secret", quo: "whsec_abc" });
    let message = "";
    try {
      webhookSecrets(l, { HS: "hs-secret-value" });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/webhooks\.quo\.secretEnv names Q, which is not set/);
    expect(message).not.toContain("hs-secret-value");
    expect(hasTriggers(l)).toBe(true);
    expect(watchedSyncs(l)).toEqual([{ name: "leads", path: "a.csv" }]);
    expect(hasTriggers(loaded({ syncs: [sync({ type: "csv", path: "a.csv" })] }))).toBe(false);
  });

  it("QUO_SYNC_PUBLIC_URL is an http(s) base URL", () => {
    expect(publicUrlOf({})).toBeUndefined();
    expect(publicUrlOf({ QUO_SYNC_PUBLIC_URL: "https://sync.example.com/" })).toBe("https://sync.example.com");
    expect(publicUrlOf({ QUO_SYNC_PUBLIC_URL: "https://example.com/quo-sync" })).toBe("https://example.com/quo-sync");
    expect(() => publicUrlOf({ QUO_SYNC_PUBLIC_URL: "sync.example.com" })).toThrow(/QUO_SYNC_PUBLIC_URL: 'sync.example.com' is not a URL/);
    expect(() => publicUrlOf({ QUO_SYNC_PUBLIC_URL: "ftp://x" })).toThrow(ConfigError);
    expect(() => publicUrlOf({ QUO_SYNC_PUBLIC_URL: "https://x/?a=1" })).toThrow(/without query/);
  });
});
