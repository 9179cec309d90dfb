import { describe, expect, it } from "vitest";
import { formatPath, syncSchema } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { closest, editDistance } from "../../src/closest-word.js";
import { resolveCustomFields, type CustomFieldDefinition } from "../../src/plan/resolve-custom-fields.js";
import { checkFieldChanges } from "../../src/plan/field-bindings.js";

const DEFS: CustomFieldDefinition[] = [
  { name: "Lead Source", key: "lead-source", type: "string" },
  { name: "VIP", key: "vip", type: "boolean" },
  { name: "Seats", key: "seats", type: "number" },
];

function sync(customFields: Record<string, string>) {
  return syncSchema.parse({ name: "leads", source: { type: "csv", path: "x.csv" }, key: "id", fields: { firstName: "F", customFields } });
}

describe("resolveCustomFields", () => {
  it.each([
    ["lead-source", "lead-source"],
    ["Lead Source", "lead-source"],
    ["lead source", "lead-source"],
    ["LEAD SOURCE", "lead-source"],
    ["vip", "vip"],
  ])("%s → key %s", (configName, key) => {
    expect(resolveCustomFields(sync({ [configName]: "col" }), 0, DEFS)).toEqual([
      expect.objectContaining({ configName, column: "col", key }),
    ]);
  });

  it("prefers an exact key over a name", () => {
    const defs: CustomFieldDefinition[] = [...DEFS, { name: "seats", key: "seat-count", type: "number" }];
    expect(resolveCustomFields(sync({ seats: "c" }), 0, defs)[0]!.key).toBe("seats");
  });

  it.each([
    ["Lead Sorce", "did you mean 'Lead Source'?"],
    ["Seat", "did you mean 'Seats'?"],
    ["Totally Different", "Fields: 'Lead Source' (key lead-source, string), 'VIP' (key vip, boolean), 'Seats' (key seats, number)"],
  ])("an unknown name %s says %s", (name, expected) => {
    expect(() => resolveCustomFields(sync({ [name]: "c" }), 2, DEFS)).toThrow(expected);
    expect(() => resolveCustomFields(sync({ [name]: "c" }), 2, DEFS)).toThrow(`syncs[2].fields.${formatPath(["customFields", name])}: no custom field named`);
  });

  it("a name shared by two fields is ambiguous", () => {
    const defs: CustomFieldDefinition[] = [...DEFS, { name: "vip", key: "vip2", type: "string" }];
    expect(() => resolveCustomFields(sync({ VIP: "c" }), 0, defs)).toThrow(ConfigError);
    expect(() => resolveCustomFields(sync({ VIP: "c" }), 0, defs)).toThrow("matches 2 custom fields");
  });

  it("editDistance and closest", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("fiedls", "fields")).toBe(1);
    expect(closest("Webiste", ["Website", "Office"])).toBe("Website");
    expect(closest("zzz", ["Website", "Office"])).toBeUndefined();
  });

  it("checkFieldChanges catches a changed type and a replaced field", () => {
    const s = sync({ VIP: "c", Seats: "d" });
    const now = resolveCustomFields(s, 0, DEFS);
    expect(() => checkFieldChanges(s, 0, [{ configName: "VIP", key: "vip", name: "VIP", type: "boolean" }], now)).not.toThrow();
    expect(() => checkFieldChanges(s, 0, [{ configName: "Seats", key: "seats", name: "Seats", type: "string" }], now)).toThrow("changed type from string to number");
    expect(() => checkFieldChanges(s, 0, [{ configName: "VIP", key: "vip-old", name: "VIP", type: "boolean" }], now)).toThrow("the last run wrote to key vip-old");
  });
});
