/**
 * Property-based fuzzing of the mapping: `mapRow` over random rows and configs, and
 * `convertCustomValue` over random and well-shaped cells of every custom field type.
 *
 * What must hold: nothing throws; every row is either mapped or rejected, each rejection naming the
 * row, the field, the trimmed value and a reason, and every field at fault named (exactly those a
 * mapping of that field alone rejects); every mapped value satisfies its invariant (E.164
 * phones, one '@' per email, names trimmed, split names `splitName`'s parts of their cell, custom
 * values of their field's JSON type); mapping is
 * idempotent, so a contact rebuilt from its own mapped fields maps to the same fields.
 */
import fc from "fast-check";
import { getCountries } from "libphonenumber-js";
import { getExampleNumber, type CountryCode } from "libphonenumber-js/max";
import examples from "libphonenumber-js/mobile/examples";
import { describe, expect, it } from "vitest";
import { syncSchema, type FieldSource, type SplitField, type SyncConfig } from "../../src/config.js";
import type { ContactFields, CustomFieldValue, Rejection, SourceRow } from "../../src/model.js";
import { convertCustomValue, customFieldTypes, type CustomFieldType } from "../../src/plan/custom-values.js";
import { mapRow, type MapOptions, type ResolvedCustomField } from "../../src/plan/map-row.js";
import { splitName } from "../../src/plan/split-name.js";

/** Mapping is pure and fast; these runs stay within a few seconds together. */
const PROPERTY_TIMEOUT_MS = 60_000;

const E164_RE = /^\+[1-9]\d{1,14}$/;
/** What `Date.prototype.toISOString` gives for the years 0000–9999: four-digit year, milliseconds, UTC. */
const ISO_DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// ---------------------------------------------------------------------------------------------
// Cells.

const DIGIT = fc.constantFrom(..."0123456789");
const digits = (minLength: number, maxLength: number) => fc.string({ unit: DIGIT, minLength, maxLength });
const pad = (n: number) => (s: number) => String(s).padStart(n, "0");

/** Whitespace a spreadsheet leaves around or inside cells, including kinds `trim` knows and does not. */
const SPACE = fc.constantFrom(" ", "  ", "\t", "\u00a0", "\n", "\r\n", "\u2028", "\u3000");
const padded = (cell: fc.Arbitrary<string>) =>
  fc.tuple(fc.option(SPACE, { freq: 3 }), cell, fc.option(SPACE, { freq: 3 })).map(([a, c, b]) => `${a ?? ""}${c}${b ?? ""}`);

/** Any text at all: any code point, lone surrogates included, as a broken export may hold. */
const anyText = fc.oneof(fc.string({ unit: "binary", maxLength: 20 }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 }));

const nameCell = fc.string({ unit: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("A", "d", "a", "é", "山", "-", "'") }, { weight: 2, arbitrary: SPACE }, { weight: 1, arbitrary: fc.constantFrom("\u200b", "\u202d", "😀") }), maxLength: 14 });

/** Whole names as people write them: titles, particles, suffixes and commas among plain words. */
const fullNameCell = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("Ada", "KING", "Anne-Marie", "García", "山田", "O'Neil", "J.") },
      { weight: 2, arbitrary: fc.constantFrom("Dr.", "mrs", "van", "De", "la", "Jr.", "III", "PhD", ",", ", ") },
      { weight: 1, arbitrary: nameCell },
    ),
    { maxLength: 6 },
  )
  .chain((words) => fc.array(SPACE, { minLength: words.length, maxLength: words.length }).map((gaps) => words.map((w, i) => `${w}${gaps[i]}`).join("")));

/** Well-shaped cells most of the time, anything at all sometimes. */
const noisy = (...shaped: fc.Arbitrary<string>[]) => fc.oneof({ weight: 9, arbitrary: fc.oneof(...shaped) }, { weight: 1, arbitrary: anyText });

const SEPARATORS = fc.constantFrom("", " ", "-", ".", "/", " - ");

/** A valid number of `country` (libphonenumber's example), written the ways people write one. */
function examplePhone(country: string): fc.Arbitrary<string>[] {
  const example = getExampleNumber(country as CountryCode, examples);
  if (example === undefined) return [];
  const international = example.formatInternational();
  return [
    fc.constantFrom(example.number, example.formatNational(), international, `00${international.slice(1)}`, `00 ${international.slice(1)}`),
    fc.tuple(fc.constantFrom(" x", " ext. ", ";ext="), digits(1, 4)).map(([ext, n]) => `${example.formatNational()}${ext}${n}`),
    fc.constantFrom("\u202d", "\u200e", "\u200b").map((mark) => `${mark}${international}${mark}`),
  ];
}

const phoneShapes = [
  // US-shaped numbers with a valid area code and exchange, in the ways people write them.
  fc
    .tuple(fc.integer({ min: 2, max: 9 }), digits(2, 2), fc.integer({ min: 2, max: 9 }), digits(2, 2), digits(4, 4), fc.constantFrom("", "1-", "+1 ", "(", "001 "), SEPARATORS)
    .map(([a, b, c, d, e, prefix, sep]) => (prefix === "(" ? `(${a}${b}) ${c}${d}${sep}${e}` : `${prefix}${a}${b}${sep}${c}${d}${sep}${e}`)),
  // International and national numbers of any length, with the prefixes written for them.
  fc
    .tuple(fc.constantFrom("+", "00", "00 ", "011 ", "0", "", "+0", "+ "), fc.array(digits(1, 5), { minLength: 1, maxLength: 5 }), SEPARATORS)
    .map(([prefix, groups, sep]) => prefix + groups.join(sep)),
  digits(0, 20),
];

/** Numbers of `country` and of a few others (valid anywhere written internationally), and near misses. */
const phoneCellFor = (country: string) => noisy(...examplePhone(country), ...examplePhone("GB"), ...examplePhone("DE"), ...phoneShapes);

const localChar = fc.constantFrom(..."abcXYZ09._+-'\"@ ,;()<>\\é");
const labelChar = fc.constantFrom(..."abcXYZ09-_.é山İ");
const emailCell = noisy(
  fc.emailAddress(),
  fc.emailAddress().map((e) => e.toUpperCase()),
  fc
    .tuple(fc.string({ unit: localChar, maxLength: 10 }), fc.array(fc.string({ unit: labelChar, maxLength: 8 }), { minLength: 1, maxLength: 4 }))
    .map(([local, labels]) => `${local}@${labels.join(".")}`),
  fc.tuple(fc.string({ unit: localChar, minLength: 60, maxLength: 70 }), fc.string({ unit: labelChar, minLength: 180, maxLength: 200 })).map(([l, d]) => `${l}@${d}.com`),
);

const booleanCell = noisy(
  fc.constantFrom("true", "false", "yes", "no", "y", "n", "1", "0", "checked", "unchecked", "x").chain((w) =>
    fc.array(fc.boolean(), { minLength: w.length, maxLength: w.length }).map((upper) => [...w].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join("")),
  ),
);

const numberCell = noisy(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.maxSafeInteger().map((n) => n.toLocaleString("en-US")),
  fc.tuple(fc.nat(), digits(0, 6), fc.constantFrom("", "e3", "E-2", "e+400", "e-400")).map(([n, f, e]) => `${n.toLocaleString("en-US")}.${f}${e}`),
  fc.stringMatching(/^[+-]?[\d,.]{0,8}(?:[eE][+-]?\d{0,4})?$/),
);

const isoDate = fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }));
const dateCell = noisy(
  isoDate.map(([y, m, d]) => `${pad(4)(y)}-${pad(2)(m)}-${pad(2)(d)}`),
  fc
    .tuple(isoDate, fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.option(fc.integer({ min: 0, max: 60 })), fc.option(digits(1, 9)), fc.constantFrom("", "Z", "z", "+", "-"), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.constantFrom("T", "t", " "))
    .map(([[y, m, d], h, mi, s, frac, zone, oh, om, t]) => {
      const seconds = s === null ? "" : `:${pad(2)(s)}${frac === null ? "" : `.${frac}`}`;
      const offset = zone === "+" || zone === "-" ? `${zone}${pad(2)(oh)}:${pad(2)(om)}` : zone;
      return `${pad(4)(y)}-${pad(2)(m)}-${pad(2)(d)}${t}${pad(2)(h)}:${pad(2)(mi)}${seconds}${offset}`;
    }),
  fc.tuple(isoDate, fc.constantFrom("/", ".", "-"), fc.option(fc.tuple(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 60 })))).map(([[y, m, d], sep, time]) => {
    const clock = time === null ? "" : ` ${time[0]}:${pad(2)(time[1])}`;
    return `${d}${sep}${m}${sep}${pad(4)(y)}${clock}`;
  }),
  fc.oneof(fc.integer({ min: 0, max: 3_000_000 }).map(String), fc.double({ min: 0, max: 3_000_000, noNaN: true }).map(String)),
);

const multiSelectCell = noisy(
  fc.tuple(fc.array(fc.string({ unit: fc.constantFrom("a", "B", " ", "é", ",", ";", "|"), maxLength: 5 }), { maxLength: 5 }), fc.constantFrom(";", ",", "; ", ", ", "|", " / ")).map(([items, sep]) => items.join(sep)),
);

const urlCell = noisy(fc.webUrl(), fc.webUrl({ validSchemes: ["ftp", "mailto", "javascript", "file"] }), fc.webUrl().map((u) => u.replace("://", ":// ")));

/** Cells for each custom field type, shaped like it most of the time. */
const customCell: Record<CustomFieldType, fc.Arbitrary<string>> = {
  boolean: booleanCell,
  number: numberCell,
  date: dateCell,
  "multi-select": multiSelectCell,
  url: urlCell,
  address: noisy(nameCell),
  string: noisy(nameCell),
};

/** Cells for each role a column can play in a sync of `country`. */
function cellsFor(country: string): Record<Role, fc.Arbitrary<string>> {
  return { ...customCell, name: nameCell, fullName: fullNameCell, phone: phoneCellFor(country), email: emailCell, key: anyText };
}

type Role = "name" | "fullName" | "phone" | "email" | CustomFieldType | "key";

// ---------------------------------------------------------------------------------------------
// Configs.

const COUNTRIES = getCountries();
/** Countries whose dates or numbers read differently get extra weight next to every other one. */
const countryArb = fc.oneof(fc.constantFrom("US", "GB", "DE", "CA", "PH", "FM"), fc.constantFrom(...COUNTRIES));

/** Names that are awkward as object keys, and ordinary ones. */
const TRICKY_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
const nameArb = fc
  .oneof({ weight: 1, arbitrary: fc.constantFrom(...TRICKY_NAMES) }, { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom("a", "B", " ", "é", ".", "_", "-"), minLength: 1, maxLength: 6 }) })
  .map((s) => s.trim())
  .filter((s) => s !== "");

const quoKeyArb = fc.string({ unit: fc.constantFrom(..."abcdef0123456789"), minLength: 4, maxLength: 12 });

const separatorArb = fc.option(fc.constantFrom(";", ",", "|", " / ", "; "), { freq: 2 });

function buildSync(country: string, fields: Record<string, unknown>): SyncConfig {
  return syncSchema.parse({ name: "fuzz", source: { type: "csv", path: "x.csv" }, key: "id", defaultCountry: country, fields });
}

interface Scenario {
  key: string;
  row: SourceRow;
  opts: MapOptions;
}

function mapOptions(sync: SyncConfig, customFields: ResolvedCustomField[], separator: string | null): MapOptions {
  return separator === null ? { sync, customFields } : { sync, customFields, multiSelectSeparator: separator };
}

/**
 * A random config over a random set of columns (fields may share a column, columns may be
 * missing from the row), and a row whose cells mostly look like what their column is mapped to.
 */
const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({ country: countryArb, columns: fc.uniqueArray(nameArb, { minLength: 1, maxLength: 10 }), separator: separatorArb })
  .chain(({ country, columns, separator }) => {
    const column = fc.nat({ max: columns.length - 1 }).map((i) => columns[i]!);
    const labels = fc.dictionary(nameArb, column, { maxKeys: 3 });
    // A name field reads a column as it is, or (now and then) a part of one split as a whole name.
    const split = fc.record({ split: column, part: fc.constantFrom("first" as const, "last" as const) });
    const nameField = fc.oneof({ weight: 3, arbitrary: column }, { weight: 1, arbitrary: split });
    return fc
      .record({
        firstName: nameField,
        lastName: fc.option(nameField),
        company: fc.option(column),
        role: fc.option(column),
        phoneNumbers: labels,
        emails: labels,
        custom: fc.uniqueArray(fc.record({ configName: nameArb, key: quoKeyArb, type: fc.constantFrom(...customFieldTypes), column }), {
          maxLength: 7,
          selector: (c) => c.configName,
        }),
      })
      .chain((mapping) => {
        const fields: Record<string, unknown> = { firstName: mapping.firstName, phoneNumbers: mapping.phoneNumbers, emails: mapping.emails };
        for (const k of ["lastName", "company", "role"] as const) if (mapping[k] !== null) fields[k] = mapping[k];
        const sync = buildSync(country, fields);
        const seenKeys = new Set<string>();
        const customFields = mapping.custom
          .filter((c) => !seenKeys.has(c.key) && seenKeys.add(c.key))
          .map((c): ResolvedCustomField => ({ ...c, name: c.configName }));
        // Each column's cells look like the first thing mapped to it.
        const roles = new Map<string, Role>();
        const assign = (col: string | undefined, role: Role) => {
          if (col !== undefined && !roles.has(col)) roles.set(col, role);
        };
        const f = sync.fields;
        [f.firstName, f.lastName].forEach((c) => assign(c === undefined ? undefined : columnOf(c), typeof c === "object" ? "fullName" : "name"));
        [f.company, f.role].forEach((c) => assign(c === undefined ? undefined : columnOf(c), "name"));
        Object.values(f.phoneNumbers).forEach((c) => assign(columnOf(c), "phone"));
        Object.values(f.emails).forEach((c) => assign(columnOf(c), "email"));
        customFields.forEach((c) => assign(c.column, c.type));
        const cells = cellsFor(country);
        // Other columns are often blank (their field is then left out); the first name rarely is, as
        // a blank one rejects the row, and mapped rows get checked too.
        const blank = fc.oneof(fc.constant(undefined), fc.constant(""), SPACE);
        const columnCells = columns.map((c) =>
          c === columnOf(f.firstName)
            ? fc.oneof({ weight: 1, arbitrary: blank }, { weight: 9, arbitrary: padded((roles.get(c) === "fullName" ? fullNameCell : nameCell).filter((n) => n.trim() !== "")) })
            : fc.oneof({ weight: 4, arbitrary: blank }, { weight: 5, arbitrary: padded(cells[roles.get(c) ?? "key"]) }),
        );
        return fc.record({
          cells: fc.tuple(...columnCells),
          number: fc.integer({ min: 2, max: 1_000_000 }),
          problem: fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom("has 5 cells but the header has 4", "has 12 cells but the header has 3") }),
          key: anyText,
        }).map(({ cells: values, number, problem, key }): Scenario => {
          // A column with no cell is one a ragged row lacks (a sheet row shorter than its header).
          const entries = columns.flatMap((c, i) => (values[i] === undefined ? [] : [[c, values[i]] as const]));
          const row: SourceRow = { row: number, values: Object.fromEntries(entries) };
          if (problem !== null) row.problem = problem;
          return { key, row, opts: mapOptions(sync, customFields, separator) };
        });
      });
  });

// ---------------------------------------------------------------------------------------------
// Invariants.

/** The cell `mapRow` reads for `column`: trimmed, and blank when the row lacks the column. */
function cellOf(row: SourceRow, column: string): string {
  return Object.hasOwn(row.values, column) ? row.values[column]!.trim() : "";
}

const normaliseName = (s: string) => s.trim().replace(/\s+/g, " ");

/** A field source as these scenarios write it: a column name, or a split of a column of whole names. */
const asPlainOrSplit = (source: FieldSource): string | SplitField => {
  if (typeof source === "string" || "split" in source) return source;
  throw new Error(`these scenarios map plain columns and splits only, not ${JSON.stringify(source)}`);
};

/** The column a field reads. */
const columnOf = (source: FieldSource): string => {
  const s = asPlainOrSplit(source);
  return typeof s === "string" ? s : s.split;
};

/** What a name field should get from `row`: its cell normalised, or its part of the split cell. */
const nameOf = (row: SourceRow, source: FieldSource): string => {
  const s = asPlainOrSplit(source);
  return typeof s === "string" ? normaliseName(cellOf(row, s)) : splitName(cellOf(row, s.split))[s.part];
};

function checkName(value: string): void {
  expect(value).not.toBe("");
  expect(value).toBe(value.trim());
  expect(value).not.toMatch(/\s\s|[^\S ]/);
}

function checkCustomValue(value: CustomFieldValue, type: CustomFieldType, cell: string): void {
  switch (type) {
    case "boolean":
      expect(typeof value).toBe("boolean");
      return;
    case "number":
      expect(typeof value).toBe("number");
      expect(Number.isFinite(value)).toBe(true);
      expect(Object.is(value, -0)).toBe(false);
      return;
    case "date":
      expect(value).toMatch(ISO_DATE_TIME_RE);
      expect(new Date(value as string).toISOString()).toBe(value);
      return;
    case "multi-select": {
      expect(Array.isArray(value)).toBe(true);
      const items = value as string[];
      expect(items.length).toBeGreaterThan(0);
      expect(new Set(items).size).toBe(items.length);
      for (const item of items) {
        expect(typeof item).toBe("string");
        expect(item).not.toBe("");
        expect(item).toBe(item.trim());
        expect(cell).toContain(item);
      }
      return;
    }
    case "url": {
      expect(value).toBe(cell);
      expect(["http:", "https:"]).toContain(new URL(cell).protocol);
      return;
    }
    case "address":
    case "string":
      expect(value).toBe(cell);
  }
}

/** Everything a mapped contact must satisfy, checked against the row and config it came from. */
function checkMapped(fields: ContactFields, { row, opts }: Scenario): void {
  const f = opts.sync.fields;
  checkName(fields.firstName);
  expect(fields.firstName).toBe(nameOf(row, f.firstName));
  for (const k of ["lastName", "company", "role"] as const) {
    const source = f[k];
    const expected = source === undefined ? "" : nameOf(row, source);
    if (expected === "") expect(fields).not.toHaveProperty(k);
    else {
      checkName(fields[k]!);
      expect(fields[k]).toBe(expected);
    }
  }

  const phoneLabels = Object.keys(f.phoneNumbers).filter((l) => cellOf(row, columnOf(f.phoneNumbers[l]!)) !== "").sort();
  expect(fields.phoneNumbers.map((p) => p.name)).toEqual(phoneLabels);
  for (const phone of fields.phoneNumbers) expect(phone.value).toMatch(E164_RE);

  const emailLabels = Object.keys(f.emails).filter((l) => cellOf(row, columnOf(f.emails[l]!)) !== "").sort();
  expect(fields.emails.map((e) => e.name)).toEqual(emailLabels);
  for (const email of fields.emails) {
    const cell = cellOf(row, columnOf(f.emails[email.name]!));
    expect(email.value.split("@")).toHaveLength(2);
    const [local, domain] = email.value.split("@") as [string, string];
    expect(local).not.toBe("");
    expect(domain).toContain(".");
    expect(email.value).toBe(`${cell.slice(0, cell.indexOf("@"))}@${cell.slice(cell.indexOf("@") + 1).toLowerCase()}`);
  }

  const filled = opts.customFields.filter((c) => cellOf(row, c.column) !== "");
  expect(Object.keys(fields.customFields).sort()).toEqual(filled.map((c) => c.key).sort());
  for (const c of filled) checkCustomValue(fields.customFields[c.key]!, c.type, cellOf(row, c.column));
}

/**
 * A rejected row lists every field at fault, once each, in mapping order: exactly the fields that
 * a config mapping that field alone (beside a first name that is fine) rejects, with the same
 * rejection. A row the connector flagged has that one reason.
 */
function checkRejections(rejections: readonly Rejection[], scenario: Scenario): void {
  const { key, row } = scenario;
  expect(rejections.length).toBeGreaterThan(0);
  if (row.problem !== undefined) {
    // A record the connector could not read as a whole belongs to no one field.
    expect(rejections).toStrictEqual([{ key, row: row.row, reason: row.problem }]);
    return;
  }
  for (const rejection of rejections) checkRejected(rejection, scenario);
  const expected = fieldsAlone(scenario).flatMap(({ scenario: one }) => {
    const result = mapRow(one.row, one.key, one.opts);
    return result.ok ? [] : result.rejections;
  });
  expect(rejections).toStrictEqual(expected);
}

/** A column no scenario uses, holding a first name that maps. */
const FINE_FIRST_NAME = "\u0000first";

/**
 * Each field `scenario` maps, as a scenario of its own: the config maps it alone (beside a fine
 * first name, unless it is the first name), in the order `mapRow` judges fields.
 */
function fieldsAlone({ key, row, opts }: Scenario): { field: string; scenario: Scenario }[] {
  const f = opts.sync.fields;
  const withFirst = { row: row.row, values: { ...row.values, [FINE_FIRST_NAME]: "Ada" } };
  const alone = (field: string, fields: Record<string, unknown>, customFields: ResolvedCustomField[] = []) => {
    const sync = buildSync(opts.sync.defaultCountry, { firstName: FINE_FIRST_NAME, ...fields });
    const one: MapOptions = { sync, customFields, ...(opts.multiSelectSeparator === undefined ? {} : { multiSelectSeparator: opts.multiSelectSeparator }) };
    return { field, scenario: { key, row: withFirst, opts: one } };
  };
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [
    { field: "firstName", scenario: { key, row, opts: { ...opts, sync: buildSync(opts.sync.defaultCountry, { firstName: f.firstName }), customFields: [] } } },
    ...(["lastName", "company", "role"] as const).flatMap((k) => (f[k] === undefined ? [] : [alone(k, { [k]: f[k] })])),
    ...Object.keys(f.phoneNumbers).sort(byName).map((l) => alone(`phoneNumbers.${l}`, { phoneNumbers: { [l]: f.phoneNumbers[l] } })),
    ...Object.keys(f.emails).sort(byName).map((l) => alone(`emails.${l}`, { emails: { [l]: f.emails[l] } })),
    ...[...opts.customFields].sort((a, b) => byName(a.configName, b.configName)).map((c) => alone(`customFields.${c.configName}`, {}, [c])),
  ];
}

/** A rejection names the row, the field and its trimmed cell, and says why. */
function checkRejected(rejection: Rejection, { key, row, opts }: Scenario): void {
  expect(rejection.key).toBe(key);
  expect(rejection.row).toBe(row.row);
  expect(typeof rejection.reason).toBe("string");
  expect(rejection.reason.trim()).not.toBe("");
  const f = opts.sync.fields;
  const field = rejection.field!;
  const source =
    field === "firstName"
      ? f.firstName
      : field.startsWith("phoneNumbers.")
        ? f.phoneNumbers[field.slice("phoneNumbers.".length)]
        : field.startsWith("emails.")
          ? f.emails[field.slice("emails.".length)]
          : opts.customFields.find((c) => `customFields.${c.configName}` === field)?.column;
  const column = source === undefined ? undefined : columnOf(source);
  expect(column, `no mapped column for the field '${field}'`).toBeDefined();
  expect(rejection.value).toBe(field === "firstName" ? "" : cellOf(row, column!));
  expect(rejection.reason.startsWith(`${field}: `)).toBe(true);
  expect(rejection.reason).toContain(`column '${column}'`);
}

// ---------------------------------------------------------------------------------------------

describe("mapRow fuzz", () => {
  it(
    "every row is mapped, its values within their invariants, or rejected naming row, field, value and reason",
    () => {
      let mapped = 0;
      fc.assert(
        fc.property(scenarioArb, (scenario) => {
          const result = mapRow(scenario.row, scenario.key, scenario.opts);
          if (result.ok) {
            expect(scenario.row.problem).toBeUndefined();
            checkMapped(result.fields, scenario);
            mapped++;
          } else checkRejections(result.rejections, scenario);
        }),
        { numRuns: 3_000 },
      );
      // The shaped cells are there so that mapped rows get checked too, not only rejections.
      expect(mapped).toBeGreaterThan(100);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "a contact rebuilt from its own mapped fields maps to the same fields",
    () => {
      const arb = fc
        .record({
          country: countryArb,
          separator: separatorArb,
          phones: fc.uniqueArray(fc.constantFrom("mobile", "work", "home"), { maxLength: 3 }),
          emails: fc.uniqueArray(fc.constantFrom("work", "home"), { maxLength: 2 }),
          types: fc.uniqueArray(fc.constantFrom(...customFieldTypes), { maxLength: customFieldTypes.length }),
          optional: fc.uniqueArray(fc.constantFrom("lastName" as const, "company" as const, "role" as const)),
        })
        .chain(({ country, separator, phones, emails, types, optional }) => {
          // Every field reads a column of its own, so that each value can be written back to it.
          const fields: Record<string, unknown> = {
            firstName: "first",
            phoneNumbers: Object.fromEntries(phones.map((l) => [l, `phone ${l}`])),
            emails: Object.fromEntries(emails.map((l) => [l, `email ${l}`])),
          };
          for (const k of optional) fields[k] = k;
          const sync = buildSync(country, fields);
          const customFields = types.map((type): ResolvedCustomField => ({ configName: type, column: `cf ${type}`, key: `key-${type}`, name: type, type }));
          const columns: [string, fc.Arbitrary<string>][] = [
            ["first", nameCell],
            ...optional.map((k): [string, fc.Arbitrary<string>] => [k, nameCell]),
            ...phones.map((l): [string, fc.Arbitrary<string>] => [`phone ${l}`, phoneCellFor(country)]),
            ...emails.map((l): [string, fc.Arbitrary<string>] => [`email ${l}`, emailCell]),
            ...customFields.map((c): [string, fc.Arbitrary<string>] => [c.column, customCell[c.type]]),
          ];
          return fc
            .tuple(...columns.map(([, cell]) => padded(cell)))
            .map((cells): Scenario => ({
              key: "k",
              row: { row: 2, values: Object.fromEntries(columns.map(([name], i) => [name, cells[i]!])) },
              opts: mapOptions(sync, customFields, separator),
            }));
        });
      let mapped = 0;
      fc.assert(
        fc.property(arb, (scenario) => {
          const first = mapRow(scenario.row, scenario.key, scenario.opts);
          if (!first.ok) return;
          mapped++;
          const again = mapRow({ row: 2, values: rebuiltValues(first.fields, scenario.opts) }, scenario.key, scenario.opts);
          expect(again).toStrictEqual(first);
        }),
        { numRuns: 3_000 },
      );
      expect(mapped).toBeGreaterThan(50);
    },
    PROPERTY_TIMEOUT_MS,
  );
});

/** The cells that would produce `fields` again: each mapped value written as its column's text. */
function rebuiltValues(fields: ContactFields, opts: MapOptions): Record<string, string> {
  const f = opts.sync.fields;
  const values: Record<string, string> = { [columnOf(f.firstName)]: fields.firstName };
  for (const k of ["lastName", "company", "role"] as const) {
    const source = f[k];
    if (source !== undefined) values[columnOf(source)] = fields[k] ?? "";
  }
  for (const p of fields.phoneNumbers) values[columnOf(f.phoneNumbers[p.name]!)] = p.value;
  for (const e of fields.emails) values[columnOf(f.emails[e.name]!)] = e.value;
  for (const c of opts.customFields) {
    const value = fields.customFields[c.key];
    // Without a configured separator, a trailing ';' (an empty option, dropped) keeps a single
    // option that holds a ',' from being split on ','.
    const list = (items: string[]) => (opts.multiSelectSeparator === undefined ? `${items.join(";")};` : items.join(opts.multiSelectSeparator));
    values[c.column] = value === undefined || value === null ? "" : Array.isArray(value) ? list(value) : String(value);
  }
  return values;
}

describe("convertCustomValue fuzz", () => {
  const opts = (defaultCountry: string, separator: string | null) => (separator === null ? { defaultCountry } : { defaultCountry, multiSelectSeparator: separator });

  it(
    "never throws; a value has its field's JSON type, a refusal a reason",
    () => {
      const arb = fc.constantFrom(...customFieldTypes).chain((type) =>
        fc.record({
          type: fc.constant(type),
          // `mapRow` passes cells trimmed and non-blank.
          raw: fc.oneof(customCell[type], anyText).map((s) => s.trim()).filter((s) => s !== ""),
          country: countryArb,
          separator: separatorArb,
        }),
      );
      fc.assert(
        fc.property(arb, ({ type, raw, country, separator }) => {
          const result = convertCustomValue(raw, type, opts(country, separator));
          if (result.ok) checkCustomValue(result.value, type, raw);
          else {
            expect(typeof result.reason).toBe("string");
            expect(result.reason.trim()).not.toBe("");
          }
        }),
        { numRuns: 5_000 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it("numbers: a finite number written plainly or with ',' thousands reads as itself", () => {
    const written = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ raw: String(n), n })),
      fc.maxSafeInteger().map((n) => ({ raw: n.toLocaleString("en-US"), n })),
      fc.tuple(fc.nat(), digits(1, 6)).map(([i, f]) => ({ raw: `${i.toLocaleString("en-US")}.${f}`, n: Number(`${i}.${f}`) })),
    );
    fc.assert(
      fc.property(written, ({ raw, n }) => {
        expect(convertCustomValue(raw, "number", { defaultCountry: "US" })).toStrictEqual({ ok: true, value: n === 0 ? 0 : n });
      }),
      { numRuns: 2_000 },
    );
  });

  it("dates: every calendar date of years 0000–9999, with any time and UTC offset, is a four-digit-year ISO date-time", () => {
    const when = fc.date({ min: new Date("0000-01-01T00:00:00.000Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true });
    const offset = fc.tuple(fc.constantFrom("+", "-"), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }));
    fc.assert(
      fc.property(when, offset, countryArb, (date, [sign, oh, om], country) => {
        const iso = date.toISOString();
        const day = iso.slice(0, 10);
        // The date alone is midnight UTC; with a wall-clock time and an offset, that instant.
        expect(convertCustomValue(day, "date", { defaultCountry: country })).toStrictEqual({ ok: true, value: `${day}T00:00:00.000Z` });
        const local = `${day}T${iso.slice(11, 23)}${sign}${pad(2)(oh)}:${pad(2)(om)}`;
        const result = convertCustomValue(local, "date", { defaultCountry: country });
        const instant = date.getTime() - (sign === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
        if (result.ok) {
          expect(result.value).toMatch(ISO_DATE_TIME_RE);
          expect(Date.parse(result.value as string)).toBe(instant);
        } else {
          // Only an instant outside the years a four-digit ISO date-time can write may be refused.
          const year = new Date(instant).getUTCFullYear();
          expect(year < 0 || year > 9999, `${local} refused: ${result.reason}`).toBe(true);
          expect(result.reason).not.toBe("");
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it("booleans: every accepted word in any letter case", () => {
    fc.assert(
      fc.property(booleanCell, (raw) => {
        const word = raw.toLowerCase();
        const expected = ["true", "yes", "y", "1", "checked", "x"].includes(word) ? true : ["false", "no", "n", "0", "unchecked"].includes(word) ? false : undefined;
        const result = convertCustomValue(raw, "boolean", { defaultCountry: "US" });
        if (expected === undefined) expect(result.ok).toBe(false);
        else expect(result).toStrictEqual({ ok: true, value: expected });
      }),
      { numRuns: 1_000 },
    );
  });

  it("multi-select: the trimmed, non-empty, first-seen options between the separators", () => {
    const arb = fc.record({
      items: fc.array(fc.string({ unit: fc.constantFrom("a", "B", " ", "\t", "é", ",", "|", "-"), maxLength: 5 })),
      separator: fc.constantFrom(";", "|", " / ", "; "),
    });
    fc.assert(
      fc.property(arb, ({ items, separator }) => {
        const parts = items.map((s) => s.replaceAll(separator.trim() || separator, ""));
        const raw = parts.join(separator);
        const expected = [...new Set(parts.flatMap((p) => p.split(separator)).map((p) => p.trim()).filter((p) => p !== ""))];
        const result = convertCustomValue(raw, "multi-select", { defaultCountry: "US", multiSelectSeparator: separator });
        expect(result).toStrictEqual(expected.length === 0 ? { ok: false, reason: `it has no options between the '${separator}' separators` } : { ok: true, value: expected });
      }),
      { numRuns: 1_000 },
    );
  });

  it("urls: an http(s) URL is kept as written, any other scheme refused", () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.constantFrom("http", "https", "HTTP", "ftp", "file", "mailto"), (url, scheme) => {
        const raw = url.replace(/^https?/, scheme);
        const result = convertCustomValue(raw, "url", { defaultCountry: "US" });
        if (/^https?$/i.test(scheme)) expect(result).toStrictEqual({ ok: true, value: raw });
        else expect(result.ok).toBe(false);
      }),
      { numRuns: 1_000 },
    );
  });
});
