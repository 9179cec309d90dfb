/**
 * A sync's `where` in the config: what it accepts, every error with its path and wording, the
 * did-you-mean of a misspelt operator (nested `any`s included), and the JSON Schema's examples,
 * which must themselves be valid.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configJsonSchema, parseConfig } from "../../src/config.js";
import { MAX_PATTERN_LENGTH, WHERE_OPERATORS, conditionSchema, whereSchema } from "../../src/config-where.js";
import { ConfigError } from "../../src/errors.js";
import { compileWhere } from "../../src/plan/where.js";

const ROOT = path.join(__dirname, "..", "..");

const sync = { name: "leads", source: { type: "csv", path: "./contacts.csv" }, key: "id", fields: { firstName: "First Name" } };

function withWhere(where: unknown): unknown {
  return { syncs: [sync, { ...sync, name: "other", where }] };
}

/** The lines of the ConfigError that `where` on the second sync gives. */
function errorLines(where: unknown): string[] {
  try {
    parseConfig(withWhere(where), "quo-sync.config.json");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const [head, ...lines] = (e as Error).message.split("\n");
    expect(head).toBe("quo-sync.config.json is not valid:");
    return lines.map((l) => l.trim());
  }
  throw new Error("expected a ConfigError");
}

const OPS = WHERE_OPERATORS.join(", ");

describe("where in the config", () => {
  it("is optional, and kept as given", () => {
    expect(parseConfig({ syncs: [sync] }).syncs[0]!.where).toBeUndefined();
    const where = [
      { column: "Status", in: ["Customer", "Lead", 3] },
      { column: "Phone", notBlank: true },
      { column: "Email", matches: "@acme\\.com$", caseSensitive: true },
      { column: "Owner", equals: "" },
      { column: "Tag", notIn: ["Spam"] },
      { column: "Created", gte: "2026-01-01", lt: "2026-02-01T00:00:00-05:00" },
      { column: "Score", gt: -1.5, lte: 100 },
      { column: "Score", gte: 50, lte: 50 },
      { any: [{ column: "Score", gte: 50 }, { any: [{ column: "Owner", equals: 7 }, { column: "Seen", lt: "2026-01-31T09:00:00.000Z" }] }] },
    ];
    expect(parseConfig(withWhere(where)).syncs[1]!.where).toEqual(where);
    expect(parseConfig(withWhere([])).syncs[1]!.where).toEqual([]);
  });

  it("trims a column's name", () => {
    expect(parseConfig(withWhere([{ column: " Status ", equals: "x" }])).syncs[1]!.where).toEqual([{ column: "Status", equals: "x" }]);
  });

  it.each<[unknown, string]>([
    // One operator per condition; a range is the one pair.
    [[{ column: "S", equals: "a", in: ["b"] }], `syncs[1].where[0]: give one of ${OPS} per condition (found equals and in); list two conditions for both`],
    [[{ column: "S", equals: "a" }, { column: "S", notBlank: true, matches: "x", gt: 1 }], `syncs[1].where[1]: give one of ${OPS} per condition (found notBlank, matches and gt); list two conditions for both`],
    [[{ column: "S", gte: 1, matches: "x" }], `syncs[1].where[0]: give one of ${OPS} per condition (found matches and gte); list two conditions for both`],
    [[{ column: "S", gt: 1, gte: 2 }], "syncs[1].where[0]: a range gives one lower bound (gt or gte) and one upper bound (lt or lte) (found gt and gte); list two conditions for both"],
    [[{ column: "S", lt: 1, lte: 2 }], "syncs[1].where[0]: a range gives one lower bound (gt or gte) and one upper bound (lt or lte) (found lt and lte); list two conditions for both"],
    [[{ column: "S", gt: 1, lt: 5, lte: 6 }], "syncs[1].where[0]: a range gives one lower bound (gt or gte) and one upper bound (lt or lte) (found gt, lt and lte); list two conditions for both"],
    [[{ column: "S", gte: 20, lt: 10 }], "syncs[1].where[0]: no value is ≥ 20 and < 10; did you swap the bounds?"],
    [[{ column: "S", gt: 10, lte: 10 }], "syncs[1].where[0]: no value is > 10 and ≤ 10; did you swap the bounds?"],
    [[{ column: "S", gte: "2026-02-01", lte: "2026-01-31" }], "syncs[1].where[0]: no value is ≥ 2026-02-01 and ≤ 2026-01-31; did you swap the bounds?"],
    [[{ column: "S", gte: 20, lt: "2026-01-01" }], 'syncs[1].where[0]: a range\'s bounds are both numbers or both dates (found gte 20 and lt "2026-01-01")'],
    // A condition's shape.
    [[{ column: "S" }], `syncs[1].where[0]: give one of ${OPS} for column 'S'`],
    [[{ equals: "x" }], "syncs[1].where[0].column: required: the column this condition reads"],
    [[{}], `syncs[1].where[0]: give a 'column' and one of ${OPS}; or 'any' with a list of conditions`],
    [[{ column: "", equals: "x" }], "syncs[1].where[0].column: a column name must not be empty"],
    [[{ column: "   ", equals: "x" }], "syncs[1].where[0].column: a column name must not be empty"],
    [[{ any: [{ column: "A", equals: "a" }], column: "x" }], "syncs[1].where[0]: an 'any' stands alone (found also column); put the other condition beside the 'any' in the list, or inside it"],
    [[{ any: [{ column: "A", equals: "a" }], column: "x", equals: "y" }], "syncs[1].where[0]: an 'any' stands alone (found also column and equals); put the other condition beside the 'any' in the list, or inside it"],
    [[{ any: [] }], "syncs[1].where[0].any: list at least one condition (an empty 'any' is met by no row)"],
    [[{ any: [{ column: "A", any: [] }] }], "syncs[1].where[0].any[0].any: list at least one condition (an empty 'any' is met by no row)"],
    [[{ any: [{ column: "A", equals: "a", in: ["b"] }] }], `syncs[1].where[0].any[0]: give one of ${OPS} per condition (found equals and in); list two conditions for both`],
    [[{ any: [{ any: [{ column: "A" }] }] }], `syncs[1].where[0].any[0].any[0]: give one of ${OPS} for column 'A'`],
    // Values.
    [[{ column: "S", equals: true }], 'syncs[1].where[0].equals: a text to compare the cell with (a number is compared as its text; write true as "true")'],
    [[{ column: "S", in: ["a", null] }], 'syncs[1].where[0].in[1]: a text to compare the cell with (a number is compared as its text; write true as "true")'],
    [[{ column: "S", in: [] }], "syncs[1].where[0].in: list at least one value"],
    [[{ column: "S", notIn: [] }], "syncs[1].where[0].notIn: list at least one value"],
    [[{ column: "S", in: "Customer" }], "syncs[1].where[0].in: Invalid input: expected array, received string"],
    [[{ column: "S", notBlank: false }], 'syncs[1].where[0].notBlank: notBlank takes only true; for rows whose cell is blank, use equals: ""'],
    [[{ column: "S", notBlank: "yes" }], 'syncs[1].where[0].notBlank: notBlank takes only true; for rows whose cell is blank, use equals: ""'],
    [[{ column: "S", matches: "" }], "syncs[1].where[0].matches: an empty pattern matches every row; leave the condition out"],
    [[{ column: "S", matches: "x".repeat(MAX_PATTERN_LENGTH + 1) }], `syncs[1].where[0].matches: a pattern of at most ${MAX_PATTERN_LENGTH} characters: a filter tests one cell; split a longer one into conditions, or an 'any'`],
    [[{ column: "S", matches: "(" }], "syncs[1].where[0].matches: not a valid regular expression: Invalid regular expression: /(/u: Unterminated group"],
    [[{ column: "S", matches: "a{2,1}" }], "syncs[1].where[0].matches: not a valid regular expression: Invalid regular expression: /a{2,1}/u: numbers out of order in {} quantifier"],
    // Valid without the u flag, refused with it: a lone escape of a letter that means nothing.
    [[{ any: [{ column: "S", matches: "\\q" }] }], "syncs[1].where[0].any[0].matches: not a valid regular expression: Invalid regular expression: /\\q/u: Invalid escape"],
    [[{ column: "S", gte: "2026-13-01" }], "syncs[1].where[0].gte: '2026-13-01' is not a date: give YYYY-MM-DD, or a date-time with its offset such as 2026-01-31T09:00:00Z or 2026-01-31T09:00:00-05:00"],
    [[{ column: "S", lt: "2026-02-30" }], "syncs[1].where[0].lt: '2026-02-30' is not a date: give YYYY-MM-DD, or a date-time with its offset such as 2026-01-31T09:00:00Z or 2026-01-31T09:00:00-05:00"],
    [[{ column: "S", lte: "1/31/2026" }], "syncs[1].where[0].lte: '1/31/2026' is not a date: give YYYY-MM-DD, or a date-time with its offset such as 2026-01-31T09:00:00Z or 2026-01-31T09:00:00-05:00"],
    [[{ column: "S", gt: "2026-01-31T10:00" }], "syncs[1].where[0].gt: '2026-01-31T10:00' has no offset, so no one instant: add Z (UTC) or the offset, e.g. 2026-01-31T10:00-05:00; or give the date alone"],
    [[{ column: "S", gte: "50" }], "syncs[1].where[0].gte: give a number without quotes (50); text is read as a date"],
    [[{ column: "S", gte: true }], "syncs[1].where[0].gte: a number, or a date as YYYY-MM-DD (or a date-time with its offset)"],
    [[{ column: "S", gt: 5, caseSensitive: true }], "syncs[1].where[0].caseSensitive: caseSensitive is for equals, in, notIn and matches; gt compares numbers or dates, which have no case"],
    [[{ column: "S", notBlank: true, caseSensitive: true }], "syncs[1].where[0].caseSensitive: caseSensitive is for equals, in, notIn and matches; notBlank only tells a blank cell from the rest"],
    [[{ column: "S", equals: "a", caseSensitive: "yes" }], "syncs[1].where[0].caseSensitive: Invalid input: expected boolean, received string"],
    ["Status = Customer", "syncs[1].where: Invalid input: expected array, received string"],
    [[5], "syncs[1].where[0]: Invalid input: expected object, received number"],
  ])("%j: %s", (where, line) => {
    expect(errorLines(where)).toEqual([line]);
  });

  it("says what is wrong with each condition, each on its own path", () => {
    expect(errorLines([{ column: "A", in: [] }, { column: "B", matches: "[" }, { any: [{ column: "C", gte: "soon" }] }])).toEqual([
      "syncs[1].where[0].in: list at least one value",
      "syncs[1].where[1].matches: not a valid regular expression: Invalid regular expression: /[/u: Unterminated character class",
      "syncs[1].where[2].any[0].gte: 'soon' is not a date: give YYYY-MM-DD, or a date-time with its offset such as 2026-01-31T09:00:00Z or 2026-01-31T09:00:00-05:00",
    ]);
  });

  it("says what is wrong with a condition's shape beside another condition's value", () => {
    expect(errorLines([{ column: "S" }, { column: "A", in: [] }, { column: "B", equals: "x", notBlank: true }])).toEqual([
      `syncs[1].where[0]: give one of ${OPS} for column 'S'`,
      "syncs[1].where[1].in: list at least one value",
      `syncs[1].where[2]: give one of ${OPS} per condition (found equals and notBlank); list two conditions for both`,
    ]);
  });

  it("accepts the README's example, and names its failures as the README does", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Filtering rows (`where`)"));
    const block = /```json\n"where": (\[[\s\S]*?\n\])\n```/.exec(section);
    expect(block).not.toBeNull();
    const where = parseConfig(withWhere(JSON.parse((block as RegExpExecArray)[1] as string))).syncs[1]!.where;
    expect(where).toHaveLength(4);
    const filter = compileWhere(where, 1, "US");
    const row = { row: 2, values: { Status: "Lead", Phone: "+1 555 0100", Created: "3/15/2026", Score: "n/a", Owner: "Bob" } };
    const said = filter.test(row);
    expect(said).toEqual({ condition: "where[3]: any of ('Score' ≥ 50 ('n/a' is not a number); 'Owner' = \"Ann\")", column: "Score", value: "n/a" });
    expect(section).toContain(`\`${said?.condition}\``);
    expect(filter.test({ row: 3, values: { ...row.values, Status: "Churned" } })?.condition).toBe('where[0]: \'Status\' in ["Customer", "Lead"]');
    expect(section).toContain("`where[0]: 'Status' in\n[\"Customer\", \"Lead\"]`");
    expect(filter.test({ row: 4, values: { ...row.values, Owner: "ann" } })).toBeNull();
  });

  it.each<[unknown, string]>([
    [[{ column: "Phone", notblank: true }], "syncs[1].where[0].notblank: unknown key; did you mean 'notBlank'?"],
    [[{ column: "Phone", notBlnk: true }], "syncs[1].where[0].notBlnk: unknown key; did you mean 'notBlank'?"],
    [[{ column: "Status", notin: ["x"] }], "syncs[1].where[0].notin: unknown key; did you mean 'notIn'?"],
    [[{ column: "Status", equal: "x" }], "syncs[1].where[0].equal: unknown key; did you mean 'equals'?"],
    [[{ column: "Email", match: "x" }], "syncs[1].where[0].match: unknown key; did you mean 'matches'?"],
    [[{ colum: "Status", equals: "x" }], "syncs[1].where[0].colum: unknown key; did you mean 'column'?"],
    [[{ column: "Status", equals: "x", caseSensitve: true }], "syncs[1].where[0].caseSensitve: unknown key; did you mean 'caseSensitive'?"],
    [[{ any: [{ column: "Phone", notBlnk: true }] }], "syncs[1].where[0].any[0].notBlnk: unknown key; did you mean 'notBlank'?"],
    [[{ any: [{ any: [{ column: "E", mathces: "x" }] }] }], "syncs[1].where[0].any[0].any[0].mathces: unknown key; did you mean 'matches'?"],
    [[{ anyOf: [{ column: "E", equals: "x" }] }], "syncs[1].where[0].anyOf: unknown key; did you mean 'any'?"],
    [[{ column: "S", between: [1, 2] }], `syncs[1].where[0].between: unknown key (the keys here are: column, caseSensitive, ${OPS}, any)`],
  ])("%j: %s", (where, line) => {
    expect(errorLines(where)).toEqual([line]);
  });

  it("says where is a key of a sync when misspelt", () => {
    const lines = (() => {
      try {
        parseConfig({ syncs: [{ ...sync, were: [] }] });
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    })();
    expect(lines).toContain("syncs[0].were: unknown key; did you mean 'where'?");
  });
});

/** Every `examples` array in a JSON Schema, with the schema that holds it, by a JSON-pointer-like path. */
function examplesIn(node: unknown, at: string, out: { at: string; schema: Record<string, unknown>; examples: unknown[] }[]): typeof out {
  if (node === null || typeof node !== "object") return out;
  const s = node as Record<string, unknown>;
  if (Array.isArray(s.examples)) out.push({ at, schema: s, examples: s.examples });
  for (const [k, v] of Object.entries(s)) if (k !== "examples") examplesIn(v, `${at}/${k}`, out);
  return out;
}

describe("where in the JSON Schema", () => {
  const schema = configJsonSchema() as { properties: { syncs: { items: { properties: Record<string, unknown> } } }; $defs: Record<string, Record<string, unknown>> };
  const where = schema.properties.syncs.items.properties.where as Record<string, unknown>;
  const condition = schema.$defs.whereCondition as { properties: Record<string, Record<string, unknown>>; examples: unknown[] };

  it("is an array of whereCondition, which nests through any", () => {
    expect(where).toMatchObject({ type: "array", items: { $ref: "#/$defs/whereCondition" } });
    expect(condition.properties.any).toMatchObject({ type: "array", minItems: 1, items: { $ref: "#/$defs/whereCondition" } });
    expect(Object.keys(condition.properties)).toEqual(["column", "caseSensitive", ...WHERE_OPERATORS, "any"]);
    expect(condition).toMatchObject({ additionalProperties: false });
    expect(condition.properties.matches).toMatchObject({ maxLength: MAX_PATTERN_LENGTH });
  });

  it("describes every key, and gives each an example", () => {
    for (const [key, prop] of Object.entries(condition.properties)) {
      expect(typeof prop.description, key).toBe("string");
      expect(Array.isArray(prop.examples) && prop.examples.length > 0, key).toBe(true);
    }
    expect(typeof where.description).toBe("string");
  });

  it("has examples that are themselves valid", () => {
    expect(whereSchema.parse((where.examples as unknown[])[0])).toEqual((where.examples as unknown[])[0]);
    for (const example of condition.examples) expect(conditionSchema.safeParse(example).success, JSON.stringify(example)).toBe(true);
    const all = examplesIn(condition.properties, "", []);
    expect(all.length).toBeGreaterThanOrEqual(Object.keys(condition.properties).length);
    for (const { at, examples } of all) {
      const key = at.split("/")[1] as string;
      for (const e of examples) {
        // Each key's example, placed in the smallest condition that can hold it.
        const c =
          key === "column" ? { column: e, notBlank: true }
          : key === "caseSensitive" ? { column: "X", equals: "x", caseSensitive: e }
          : key === "any" ? { any: e }
          : at.endsWith("/items") ? { column: "X", [key]: [e] }
          : { column: "X", [key]: e };
        expect(conditionSchema.safeParse(c).success, `${at}: ${JSON.stringify(c)}`).toBe(true);
      }
    }
  });

  it("is in the committed quo-sync.schema.json (run `npm run schema` after changing it)", () => {
    const committed = JSON.parse(readFileSync(path.join(ROOT, "quo-sync.schema.json"), "utf8"));
    expect(committed.$defs.whereCondition).toEqual(JSON.parse(JSON.stringify(condition)));
    expect(committed.properties.syncs.items.properties.where).toEqual(JSON.parse(JSON.stringify(where)));
  });
});
