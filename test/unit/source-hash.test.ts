/**
 * The digest the planner compares to skip mapping a row it sent before: it covers every cell the
 * mapping reads (a split column's too) and every setting that changes what a row maps to (a split
 * field's column and part too), and nothing else.
 */
import { describe, expect, it } from "vitest";
import { syncSchema, type SyncConfig } from "../../src/config.js";
import type { SourceRow } from "../../src/model.js";
import { sourceHasher } from "../../src/plan/source-hash.js";

const sync = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}): SyncConfig =>
  syncSchema.parse({ name: "leads", source: { type: "csv", path: "x.csv" }, key: "id", fields: { phoneNumbers: { mobile: "Phone" }, ...fields }, ...extra });

const SPLIT = { firstName: { split: "Full Name", part: "first" }, lastName: { split: "Full Name", part: "last" } };

const row = (values: Record<string, string>): SourceRow => ({ row: 2, values: { id: "1", "Full Name": "Ada Lovelace", Phone: "+14155550100", Notes: "x", ...values } });

const hash = (s: SyncConfig, values: Record<string, string> = {}): string => sourceHasher(s, [])(row(values));

describe("sourceHasher", () => {
  it("covers the cells of a split column", () => {
    const s = sync(SPLIT);
    expect(hash(s)).toBe(hash(s));
    expect(hash(s, { "Full Name": "Ada King" })).not.toBe(hash(s));
    expect(hash(s, { Phone: "+14155550101" })).not.toBe(hash(s));
    // A column no field reads changes nothing.
    expect(hash(s, { Notes: "y" })).toBe(hash(s));
  });

  it("a changed split setting maps every row afresh", () => {
    const settings = [
      SPLIT,
      { firstName: { split: "Full Name", part: "last" }, lastName: { split: "Full Name", part: "first" } },
      { firstName: { split: "Full Name", part: "first" } },
      { firstName: { split: "Other", part: "first" }, lastName: { split: "Full Name", part: "last" } },
      { firstName: "Full Name" },
      { firstName: "Full Name", lastName: { split: "Full Name", part: "last" } },
    ];
    const hashes = settings.map((fields) => hash(sync(fields), { Other: "Ada Lovelace" }));
    expect(new Set(hashes).size).toBe(settings.length);
  });

  it("does not depend on the order of the config's keys", () => {
    const reordered = { lastName: { part: "last", split: "Full Name" }, firstName: { part: "first", split: "Full Name" } };
    expect(hash(sync(reordered))).toBe(hash(sync(SPLIT)));
  });

  it("a sync without templates or kept blanks keeps the fingerprint it had before either existed", () => {
    // Digests computed before computed fields and `blanks` were added: no row is mapped afresh for them.
    expect(hash(sync({ firstName: "Full Name" }))).toBe("m7r1JSz_xSytuSN7AE83cL9PNr0");
    expect(hash(sync({ firstName: "Full Name" }, { blanks: "clear" }))).toBe("m7r1JSz_xSytuSN7AE83cL9PNr0");
    expect(hash(sync({ firstName: { split: "Full Name", part: "first" } }))).toBe("ouXy84_GAVAtbBYkyAEKmAIOJ-Q");
  });

  it("covers every cell a template reads, and nothing a constant does not read", () => {
    const s = sync({ firstName: "Full Name", role: { template: "{{Title}} ({{Department}})" }, company: { value: "Acme" } });
    expect(hash(s, { Title: "Eng", Department: "Ops" })).not.toBe(hash(s, { Title: "Eng", Department: "R&D" }));
    expect(hash(s, { Title: "Eng" })).not.toBe(hash(s, { Title: "Mgr" }));
    expect(hash(s, { Company: "x" })).toBe(hash(s, { Company: "y" }));
  });

  it("a changed computed setting or blanks policy maps every row afresh", () => {
    const variants: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ firstName: "Full Name", company: "Company" }, {}],
      [{ firstName: "Full Name", company: "Company" }, { blanks: "keep" }],
      [{ firstName: "Full Name", company: { column: "Company", blanks: "keep" } }, {}],
      [{ firstName: "Full Name", company: { column: "Company", default: "Independent" } }, {}],
      [{ firstName: "Full Name", company: { column: "Company", map: { a: "A" } } }, {}],
      [{ firstName: "Full Name", company: { column: "Company", map: { a: "B" } } }, {}],
      [{ firstName: "Full Name", company: { column: "Company", map: { a: "B" }, strict: true } }, {}],
      [{ firstName: "Full Name", company: { value: "Acme" } }, {}],
      [{ firstName: "Full Name", company: { template: "{{Company}}" } }, {}],
      [{ firstName: "Full Name", company: { template: "{{Company}}!" } }, {}],
    ];
    const hashes = variants.map(([fields, extra]) => hash(sync(fields, extra), { Company: "a" }));
    expect(new Set(hashes).size).toBe(variants.length);
  });
});
