/**
 * `source.incremental` in the config: accepted on a HubSpot source with a `fullEvery` duration,
 * refused with the path and a reason everywhere else.
 */
import { describe, expect, it } from "vitest";
import { configJsonSchema, parseConfig } from "../../src/config.js";

const config = (source: Record<string, unknown>) => ({ syncs: [{ name: "crm", key: "id", source, fields: { firstName: "firstname" } }] });
const problem = (source: Record<string, unknown>): string => {
  try {
    parseConfig(config(source), "quo-sync.config.json");
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("the config was accepted");
};

describe("source.incremental", () => {
  it("is accepted on a HubSpot source, and absent by default", () => {
    const c = parseConfig(config({ type: "hubspot", incremental: { fullEvery: "24h" } }));
    expect(c.syncs[0]?.source).toMatchObject({ type: "hubspot", incremental: { fullEvery: "24h" } });
    expect(parseConfig(config({ type: "hubspot" })).syncs[0]?.source).not.toHaveProperty("incremental");
  });

  it("refuses a fullEvery that is not a duration, is under a minute, or is missing, naming the path", () => {
    expect(problem({ type: "hubspot", incremental: { fullEvery: "daily" } })).toBe(
      'quo-sync.config.json is not valid:\n  syncs[0].source.incremental.fullEvery: not a duration: give a whole number and a unit: s, m, h or d (e.g. 30m, 24h, 2d)',
    );
    expect(problem({ type: "hubspot", incremental: { fullEvery: "30s" } })).toMatch(/syncs\[0\]\.source\.incremental\.fullEvery: '30s' is under a minute/);
    expect(problem({ type: "hubspot", incremental: {} })).toMatch(/syncs\[0\]\.source\.incremental\.fullEvery: a duration such as "24h"/);
    expect(problem({ type: "hubspot", incremental: { fullEvery: "24h", every: "1m" } })).toMatch(/syncs\[0\]\.source\.incremental\.every: unknown key/);
  });

  it("is refused on a CSV or Google Sheets source with a reason, not as a mere unknown key", () => {
    for (const source of [
      { type: "csv", path: "contacts.csv", incremental: { fullEvery: "24h" } },
      { type: "google-sheets", spreadsheetId: "abc", range: "Sheet1", incremental: { fullEvery: "24h" } },
    ]) {
      expect(problem(source)).toBe(
        "quo-sync.config.json is not valid:\n  syncs[0].source.incremental: incremental reads are for HubSpot sources only (a file or a sheet is read whole on every run, which is cheap); remove it",
      );
    }
  });
});

describe("the JSON Schema of source.incremental", () => {
  it("is on the HubSpot source only, with fullEvery's pattern and examples", () => {
    const schema = configJsonSchema() as any;
    const sources: any[] = schema.properties.syncs.items.properties.source.oneOf ?? schema.properties.syncs.items.properties.source.anyOf;
    const byType = new Map(sources.map((s) => [s.properties.type.const, s]));
    const incremental = byType.get("hubspot").properties.incremental;
    expect(incremental).toMatchObject({ type: "object", required: ["fullEvery"], additionalProperties: false, examples: [{ fullEvery: "24h" }] });
    expect(incremental.properties.fullEvery.examples).toEqual(["24h", "12h", "7d"]);
    expect(new RegExp(incremental.properties.fullEvery.pattern).test("24h")).toBe(true);
    expect(new RegExp(incremental.properties.fullEvery.pattern).test("daily")).toBe(false);
    expect(byType.get("csv").properties).not.toHaveProperty("incremental");
    expect(byType.get("google-sheets").properties).not.toHaveProperty("incremental");
  });
});
