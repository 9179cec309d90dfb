import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import fc from "fast-check";
import type { ContactFields, LabelledValue } from "../../src/model.js";
import { canonicalJson, hashContact } from "../../src/plan/hash.js";

function cyclic(): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  o.self = o;
  return o;
}

const sha = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 32);

describe("canonicalJson", () => {
  it.each([
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ z: { y: 1, x: [3, { d: 1, c: 2 }] }, a: null }, '{"a":null,"z":{"x":[3,{"c":2,"d":1}],"y":1}}'],
    [{ a: undefined, b: "x" }, '{"b":"x"}'],
    [[1, undefined, "two"], '[1,null,"two"]'],
    [{ "é": 1, e: 2, E: 3, "10": 4, "9": 5 }, '{"10":4,"9":5,"E":3,"e":2,"é":1}'],
    [{ 'a"b': "\u0001", "\\": "\ud800" }, '{"\\\\":"\\ud800","a\\"b":"\\u0001"}'],
    ['he said "hi"\n', '"he said \\"hi\\"\\n"'],
    [[true, false, 0, -0, 1.5, 1e21, NaN, Infinity], "[true,false,0,0,1.5,1e+21,null,null]"],
    [{ d: new Date("2024-01-31T00:00:00.000Z") }, '{"d":"2024-01-31T00:00:00.000Z"}'],
    [{}, "{}"],
    [[], "[]"],
    [null, "null"],
    [undefined, "null"],
  ])("%j → %s", (value, json) => {
    expect(canonicalJson(value)).toBe(json);
  });

  it("does not depend on the order keys were added in", () => {
    const a = { firstName: "Ada", customFields: { k2: true, k1: ["x", "y"] } };
    const b = { customFields: { k1: ["x", "y"], k2: true }, firstName: "Ada" };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });

  it.each([
    ["a bigint", { n: 1n }, "canonicalJson: a bigint has no JSON form"],
    ["a cycle", cyclic(), "canonicalJson: nested deeper than 1000 levels (a cycle?)"],
  ])("throws on %s", (_what, value, message) => {
    expect(() => canonicalJson(value)).toThrow(new TypeError(message));
  });

  it("allows the same object twice when it is not a cycle", () => {
    const shared = { a: 1 };
    expect(canonicalJson({ x: shared, y: [shared] })).toBe('{"x":{"a":1},"y":[{"a":1}]}');
  });
});

const ada: ContactFields = {
  firstName: "Ada",
  lastName: "Lovelace",
  phoneNumbers: [
    { name: "mobile", value: "+14155552671" },
    { name: "work", value: "+442079460958" },
  ],
  emails: [{ name: "work", value: "ada@example.com" }],
  customFields: { "k-vip": true, "k-tags": ["a", "b"] },
};

describe("hashContact", () => {
  it("is the first 32 hex digits of the SHA-256 of the canonical JSON", () => {
    expect(hashContact(ada)).toBe(sha(canonicalJson(ada)));
    expect(hashContact(ada)).toMatch(/^[0-9a-f]{32}$/);
  });

  it("matches canonicalJson for any contact (lists taken in label order)", () => {
    const text = fc.string({ unit: "binary", maxLength: 12 });
    const labelled = fc.array(fc.record({ name: text, value: text }), { maxLength: 3 });
    const customValue = fc.oneof(text, fc.double(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }));
    const contact: fc.Arbitrary<ContactFields> = fc.record(
      {
        firstName: text,
        lastName: text,
        company: text,
        role: text,
        phoneNumbers: labelled,
        emails: labelled,
        customFields: fc.dictionary(text, customValue, { maxKeys: 4 }),
      },
      { requiredKeys: ["firstName", "phoneNumbers", "emails", "customFields"] },
    );
    const byLabel = (items: LabelledValue[]) =>
      [...items].sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    fc.assert(
      fc.property(contact, (f) => {
        const sorted = { ...f, phoneNumbers: byLabel(f.phoneNumbers), emails: byLabel(f.emails) };
        expect(hashContact(f)).toBe(sha(canonicalJson(sorted)));
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ["key order", { ...ada, customFields: { "k-tags": ["a", "b"], "k-vip": true } }],
    ["list order", { ...ada, phoneNumbers: [...ada.phoneNumbers].reverse() }],
    ["an explicit undefined", { ...ada, company: undefined }],
  ])("ignores %s", (_what, other) => {
    expect(hashContact(other)).toBe(hashContact(ada));
  });

  it.each([
    ["a name", { ...ada, firstName: "Ada " }],
    ["a phone", { ...ada, phoneNumbers: [{ name: "mobile", value: "+14155552672" }, ada.phoneNumbers[1]!] }],
    ["a label", { ...ada, emails: [{ name: "home", value: "ada@example.com" }] }],
    ["a custom value", { ...ada, customFields: { "k-vip": false, "k-tags": ["a", "b"] } }],
    ["multi-select order", { ...ada, customFields: { "k-vip": true, "k-tags": ["b", "a"] } }],
    ["a new field", { ...ada, company: "Analytical Engines" }],
  ])("changes with %s", (_what, other) => {
    expect(hashContact(other)).not.toBe(hashContact(ada));
  });

  it("does not reorder the caller's lists", () => {
    const phones = [...ada.phoneNumbers].reverse();
    hashContact({ ...ada, phoneNumbers: phones });
    expect(phones[0]?.name).toBe("work");
  });

  it("handles 100,000 contacts (timing is measured by the benchmark)", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(hashContact({ ...ada, firstName: `Ada ${i}` }));
    expect(seen.size).toBe(100_000);
  });
});
