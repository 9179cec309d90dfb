import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { closest as didYouMean } from "../../src/closest-word.js";
import { DEFAULT_WORKSPACE, checkColumns, configJsonSchema, hasWorkspaces, loadConfig, mappedColumns, parseConfig, workspaceOf, type LoadedConfig } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { stateLocation } from "../../src/run.js";

const ROOT = path.join(__dirname, "..", "..");

const base = {
  syncs: [
    {
      name: "leads",
      source: { type: "csv", path: "./contacts.csv" },
      key: "id",
      fields: { firstName: "First Name", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
    },
  ],
};

function errorOf(data: unknown): string {
  try {
    parseConfig(data, "quo-sync.config.json");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("accepts the README's example and fills the documented defaults", () => {
    const example = JSON.parse(readFileSync(path.join(ROOT, "examples", "quo-sync.config.json"), "utf8"));
    const c = parseConfig(example);
    // Safe to copy as it is: deleting is opt-in.
    expect(c.syncs[0]!.deletes).toBe("never");
    const d = parseConfig(base);
    expect(d.state).toBe("./quo-sync.db");
    expect(d.quo.requestsPerSecond).toBe(10);
    expect(d.retention).toEqual({ runs: 200, days: 30 });
    expect(parseConfig({ ...base, retention: { days: 7 } }).retention).toEqual({ runs: 200, days: 7 });
    expect(parseConfig({ ...base, retention: { runs: 50, days: 0.5 } }).retention).toEqual({ runs: 50, days: 0.5 });
    expect(d.syncs[0]).toMatchObject({ defaultCountry: "US", deletes: "never", maxDeletePercent: 20, source: { delimiter: ",", encoding: "utf8" } });
  });

  it.each([
    [{ ...base, syncs: [{ ...base.syncs[0], fields: { ...base.syncs[0]!.fields, phoneNumbers: { mobile: "" } } }] }, "syncs[0].fields.phoneNumbers.mobile: a column name must not be empty"],
    [{ ...base, syncs: [{ ...base.syncs[0], defaultCountry: "ZZ" }] }, "syncs[0].defaultCountry: not an ISO 3166-1 alpha-2 country code"],
    [{ ...base, syncs: [{ ...base.syncs[0], deletes: "always" }] }, "syncs[0].deletes:"],
    [{ ...base, syncs: [{ ...base.syncs[0], maxDeletePercent: 120 }] }, "syncs[0].maxDeletePercent:"],
    [{ ...base, syncs: [{ ...base.syncs[0], source: { type: "ftp" } }] }, "syncs[0].source.type:"],
    [{ ...base, syncs: [{ ...base.syncs[0], fields: { lastName: "x" } }] }, "syncs[0].fields.firstName:"],
    [{ ...base, syncs: [{ ...base.syncs[0], extra: 1 }] }, "syncs[0].extra: unknown key (the keys here are: name, workspace, source, key, fields,"],
    [{ ...base, syncs: [base.syncs[0], base.syncs[0]] }, "syncs[1].name: 'leads' is already the name of syncs[0]"],
    [{ ...base, syncs: [] }, "syncs: configure at least one sync"],
    [{ ...base, quo: { requestsPerSecond: 0 } }, "quo.requestsPerSecond:"],
    [{ ...base, retention: { runs: 0 } }, "retention.runs:"],
    [{ ...base, retention: { runs: 2.5 } }, "retention.runs:"],
    [{ ...base, retention: { days: 0 } }, "retention.days:"],
    [{ ...base, retention: { days: "30" } }, "retention.days:"],
    [{ ...base, retention: { keep: 3 } }, "retention.keep: unknown key (the keys here are: runs, days)"],
    [{ ...base, syncs: [{ ...base.syncs[0], key: undefined }] }, "syncs[0].key: required"],
    [{ ...base, syncs: [{ ...base.syncs[0], match: { by: ["phone", "phone"] } }] }, "syncs[0].match.by: list each of phone and email at most once"],
    [{ ...base, syncs: [{ ...base.syncs[0], match: { by: [] } }] }, "syncs[0].match.by:"],
    [{ ...base, syncs: [{ ...base.syncs[0], match: { by: ["name"] } }] }, "syncs[0].match.by[0]:"],
    [
      { ...base, syncs: [{ ...base.syncs[0], source: { type: "google-sheets", spreadsheetId: "s", range: "Sheet1", writeBack: { idColumn: "Phone" } } }] },
      "syncs[0].source.writeBack.idColumn: 'Phone' is the key or a mapped column",
    ],
    [{ ...base, syncs: [{ ...base.syncs[0], workspace: "west" }] }, "syncs[0].workspace: no workspace named 'west'; the config defines no workspaces"],
  ])("names the path of each problem (%#)", (data, expected) => {
    const msg = errorOf(data);
    expect(msg).toContain("quo-sync.config.json is not valid");
    expect(msg).toContain(expected);
  });

  const workspaces = { west: { apiKeyEnv: "WEST_QUO_API_KEY" }, east: { apiKeyEnv: "EAST_MATON_KEY", auth: "maton", baseUrl: "https://gateway.example/quo", requestsPerSecond: 5 } };
  const withWorkspaces = (top: Record<string, unknown>, workspace?: string) => ({ ...base, ...top, syncs: [{ ...base.syncs[0], ...(workspace !== undefined ? { workspace } : {}) }] });

  it("accepts workspaces and a sync's workspace; without them every sync is in the default workspace", () => {
    const c = parseConfig(withWorkspaces({ workspaces }, "east"));
    expect(c.workspaces.west).toEqual({ apiKeyEnv: "WEST_QUO_API_KEY", auth: "quo" });
    expect(c.workspaces.east).toEqual({ apiKeyEnv: "EAST_MATON_KEY", auth: "maton", baseUrl: "https://gateway.example/quo", requestsPerSecond: 5 });
    expect(workspaceOf(c.syncs[0]!)).toBe("east");
    expect(hasWorkspaces(c)).toBe(true);
    const plain = parseConfig(base);
    expect(plain.workspaces).toEqual({});
    expect(hasWorkspaces(plain)).toBe(false);
    expect(workspaceOf(plain.syncs[0]!)).toBe(DEFAULT_WORKSPACE);
    // The default workspace may be named explicitly.
    expect(workspaceOf(parseConfig(withWorkspaces({ workspaces }, "default")).syncs[0]!)).toBe("default");
  });

  it.each([
    [withWorkspaces({ workspaces }, "north"), "syncs[0].workspace: no workspace named 'north'; the workspaces are: west, east"],
    [withWorkspaces({ workspaces: { "bad name": { apiKeyEnv: "K" } } }), `workspaces["bad name"]: not a valid name: use 1–40 letters, digits`],
    [withWorkspaces({ workspaces: { ["w".repeat(41)]: { apiKeyEnv: "K" } } }), `workspaces.${"w".repeat(41)}: not a valid name`],
    [withWorkspaces({ workspaces: { default: { apiKeyEnv: "K" } } }), "workspaces.default: 'default' is the name of the workspace of QUO_API_KEY / MATON_API_KEY"],
    [withWorkspaces({ workspaces: { west: {} } }), "workspaces.west.apiKeyEnv:"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "" } } }), "workspaces.west.apiKeyEnv: the name of an environment variable"],
    // Lower case reads like a key pasted where its variable's name belongs; the message never echoes it.
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "qk_live_pasted_key_9f8e" } } }), "workspaces.west.apiKeyEnv: the name of an environment variable"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "WEST", baseUrl: "not a url" } } }), "workspaces.west.baseUrl: baseUrl is not a URL; expected e.g. https://api.openphone.com"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "WEST", baseUrl: "ftp://quo.example" } } }), "workspaces.west.baseUrl: baseUrl must be an http:// or https:// URL, not ftp:"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "WEST", baseUrl: "https://user:pass@quo.example" } } }), "workspaces.west.baseUrl: baseUrl must not contain a user name or password"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "WEST", auth: "maton", baseUrl: "gateway" } } }), "workspaces.west.baseUrl: baseUrl is not a URL; expected e.g. https://gateway.maton.ai/quo"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "WEST", auth: "bearer" } } }), "workspaces.west.auth:"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "WEST", requestsPerSecond: 0 } } }), "workspaces.west.requestsPerSecond:"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "WEST", apiKey: "k" } } }), "workspaces.west.apiKey: unknown key; did you mean 'apiKeyEnv'?"],
    [withWorkspaces({ workspaces: { west: { apiKeyEnv: "WEST" } } }, "bad name"), "syncs[0].workspace: use 1–40 letters"],
  ])("names the path of each workspace problem (%#)", (data, expected) => {
    const msg = errorOf(data);
    expect(msg).toContain("quo-sync.config.json is not valid");
    expect(msg).toContain(expected);
    expect(msg).not.toContain("qk_live_pasted_key_9f8e");
    expect(msg).not.toContain("user:pass");
  });

  it("a HubSpot sync's key defaults to hs_object_id", () => {
    const c = parseConfig({ syncs: [{ name: "crm", source: { type: "hubspot" }, fields: { firstName: "firstname" } }] });
    expect(c.syncs[0]!.key).toBe("hs_object_id");
  });

  it("refuses a mapping to a column the source lacks, by the column's name", () => {
    const sync = parseConfig(base).syncs[0]!;
    expect(() => checkColumns(sync, 0, ["id", "First Name", "Phone", "Email"], "contacts.csv")).toThrow(
      "syncs[0].fields.phoneNumbers.work: column 'Work Phone' is not in contacts.csv",
    );
    expect(() => checkColumns(sync, 0, ["id", "First Name", "Phone", "Work Phone", "Email"], "contacts.csv")).not.toThrow();
    expect(() => checkColumns(sync, 0, ["First Name", "Phone", "Work Phone", "Email"], "contacts.csv")).toThrow("syncs[0].key: column 'id' is not in contacts.csv");
  });

  describe("a name split from a column of whole names", () => {
    const withFields = (fields: Record<string, unknown>) => ({ ...base, syncs: [{ ...base.syncs[0], fields: { ...base.syncs[0]!.fields, ...fields } }] });
    const split = withFields({ firstName: { split: "Full Name", part: "first" }, lastName: { split: "Full Name", part: "last" } });

    it("is accepted for firstName and lastName, and its column is one the mapping reads", () => {
      const sync = parseConfig(split).syncs[0]!;
      expect(sync.fields.firstName).toEqual({ split: "Full Name", part: "first" });
      expect(sync.fields.lastName).toEqual({ split: "Full Name", part: "last" });
      expect(mappedColumns(sync, 0).slice(0, 3)).toEqual([
        { path: "syncs[0].key", column: "id" },
        { path: "syncs[0].fields.firstName.split", column: "Full Name" },
        { path: "syncs[0].fields.lastName.split", column: "Full Name" },
      ]);
      // Beside a plain column, in either field.
      expect(parseConfig(withFields({ firstName: "Given", lastName: { split: "Full Name", part: "last" } })).syncs[0]!.fields.lastName).toEqual({ split: "Full Name", part: "last" });
    });

    it("a column the source lacks is named by the split's path", () => {
      const sync = parseConfig(split).syncs[0]!;
      const message = (() => {
        try {
          checkColumns(sync, 0, ["id", "Name", "Phone", "Work Phone", "Email"], "contacts.csv");
        } catch (e) {
          return (e as Error).message;
        }
        return "";
      })();
      expect(message).toContain("syncs[0].fields.firstName.split: column 'Full Name' is not in contacts.csv");
      expect(message).toContain("syncs[0].fields.lastName.split: column 'Full Name' is not in contacts.csv");
      expect(() => checkColumns(sync, 0, ["id", "Full Name", "Phone", "Work Phone", "Email"], "contacts.csv")).not.toThrow();
    });

    it.each([
      [{ firstName: { split: "Full Name", part: "middle" } }, 'syncs[0].fields.firstName.part: which part of the name this field gets: "first" or "last"'],
      [{ firstName: { split: "Full Name" } }, 'syncs[0].fields.firstName.part: which part of the name this field gets: "first" or "last"'],
      [{ lastName: { split: "Full Name", part: "First" } }, 'syncs[0].fields.lastName.part: which part of the name this field gets: "first" or "last"'],
      [{ firstName: { split: "  ", part: "first" } }, "syncs[0].fields.firstName.split: a column name must not be empty"],
      [{ firstName: { part: "first" } }, "syncs[0].fields.firstName.split:"],
      [{ firstName: { split: "Full Name", prt: "first" } }, "syncs[0].fields.firstName.prt: unknown key; did you mean 'part'?"],
      [{ firstName: { colum: "Full Name" } }, "syncs[0].fields.firstName.colum: unknown key; did you mean 'column'?"],
      [{ firstName: 3 }, 'syncs[0].fields.firstName: a column name, { "column": COLUMN, "default"?, "map"?, "strict"?, "blanks"? }, { "value": TEXT }, { "template": "{{Column}} …" } or { "split": COLUMN, "part": "first" | "last" }'],
      [{ firstName: ["Full Name"] }, 'syncs[0].fields.firstName: a column name, { "column": COLUMN, "default"?, "map"?, "strict"?, "blanks"? }, { "value": TEXT }, { "template": "{{Column}} …" } or { "split": COLUMN, "part": "first" | "last" }'],
      // Only names are parts of a name.
      [{ company: { split: "Full Name", part: "last" } }, 'syncs[0].fields.company: a column name, { "column": COLUMN, "default"?, "map"?, "strict"?, "blanks"? }, { "value": TEXT }, { "template": "{{Column}} …" }'],
    ])("names the path of each problem (%#)", (fields, expected) => {
      const msg = errorOf(withFields(fields));
      expect(msg).toContain(expected);
      // Never zod's bare word for a union none of whose forms fits.
      expect(msg).not.toMatch(/: Invalid input$/m);
    });

    it("a Sheet's write-back column may not be the split column", () => {
      const sheet = { type: "google-sheets", spreadsheetId: "s", range: "Sheet1", writeBack: { idColumn: "Full Name" } };
      expect(errorOf({ ...split, syncs: [{ ...split.syncs[0], source: sheet }] })).toContain("syncs[0].source.writeBack.idColumn: 'Full Name' is the key or a mapped column");
    });
  });

  it("ships a JSON Schema generated from the zod schema (run `npm run schema` after changing it)", () => {
    const shipped = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "quo-sync.schema.json"), "utf8"));
    expect(shipped).toEqual({ ...configJsonSchema(), title: "quo-sync config" });
    // `key` is optional in the schema: a HubSpot sync defaults it to hs_object_id; other sources require it (tested above).
    expect(shipped.properties.syncs.items.required).toEqual(expect.arrayContaining(["name", "source", "fields"]));
    // A name field is a column, a column with default/map, a constant, a template or a split, each with examples for editors.
    const { firstName, lastName, company, customFields, phoneNumbers } = shipped.properties.syncs.items.properties.fields.properties;
    for (const field of [firstName, lastName]) {
      expect(field.anyOf).toHaveLength(5);
      expect(field.anyOf[0].type).toBe("string");
      expect(field.anyOf[1]).toMatchObject({ required: ["column"], additionalProperties: false });
      expect(field.anyOf[2]).toMatchObject({ required: ["value"], additionalProperties: false, examples: [{ value: "Website form" }] });
      expect(field.anyOf[3]).toMatchObject({ required: ["template"], additionalProperties: false, examples: [{ template: "{{Title}} ({{Department}})" }] });
      expect(field.anyOf[4]).toMatchObject({ required: ["split", "part"], additionalProperties: false, examples: [{ split: "Full Name", part: "first" }, { split: "Full Name", part: "last" }] });
      expect(field.anyOf[4].properties.part.enum).toEqual(["first", "last"]);
      expect(field.anyOf[4].description).toContain('"García Márquez, Gabriel" gives "Gabriel" and "García Márquez"');
      expect(field.anyOf[1].properties.blanks.enum).toEqual(["clear", "keep"]);
    }
    // Company and role have every form but the split; phones too; custom fields every form.
    expect(company.anyOf).toHaveLength(4);
    expect(phoneNumbers.additionalProperties.anyOf).toHaveLength(4);
    expect(customFields.additionalProperties.anyOf).toHaveLength(5);
    expect(shipped.properties.syncs.items.properties.blanks).toMatchObject({ enum: ["clear", "keep"], default: "clear" });
  });
});

describe("the example config, copied as the README says", () => {
  // The README's quick start copies the example to the project's root; it must work there as it is.
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const copy = /cp examples\/quo-sync\.config\.json ([\w./-]+)/.exec(readme);
  const example = JSON.parse(readFileSync(path.join(ROOT, "examples", "quo-sync.config.json"), "utf8"));

  it("the README copies it to the clone's root", () => {
    expect(copy?.[1]).toBe("quo-sync.config.json");
  });

  it("its $schema, source and state resolve from where it is copied to", () => {
    const dir = path.dirname(path.join(ROOT, copy![1]!));
    expect(example.$schema).toMatch(/^\.\//);
    const schema = path.resolve(dir, example.$schema);
    expect(existsSync(schema), `${schema} does not exist`).toBe(true);
    expect(JSON.parse(readFileSync(schema, "utf8")).title).toBe("quo-sync config");
    // The schema ships at the package's root too, so the same relative path works beside an installed package's files.
    expect(path.relative(ROOT, schema)).toBe("quo-sync.schema.json");
    expect(existsSync(path.resolve(dir, example.syncs[0].source.path))).toBe(true);
    expect(path.dirname(path.resolve(dir, example.state))).toBe(dir);
  });
});

describe("unknown keys", () => {
  const sync = base.syncs[0]!;
  it.each([
    [{ ...base, syncs: [{ ...sync, feilds: sync.fields }] }, "syncs[0].feilds: unknown key; did you mean 'fields'?"],
    [{ ...base, syncs: [{ ...sync, fields: { ...sync.fields, phonenumbers: {} } }] }, "syncs[0].fields.phonenumbers: unknown key; did you mean 'phoneNumbers'?"],
    [{ ...base, syncs: [{ ...sync, source: { type: "csv", pth: "c.csv" } }] }, "syncs[0].source.pth: unknown key; did you mean 'path'?"],
    [
      { ...base, syncs: [{ ...sync, source: { type: "google-sheets", spreadsheetId: "s", range: "A", credential: "k.json" } }] },
      "syncs[0].source.credential: unknown key; did you mean 'credentials'?",
    ],
    [{ ...base, syncs: [{ ...sync, source: { type: "hubspot", archive: "keep" } }] }, "syncs[0].source.archive: unknown key; did you mean 'archived'?"],
    [{ ...base, syncs: [{ ...sync, sheduel: "0 * * * *" }] }, "syncs[0].sheduel: unknown key; did you mean 'schedule'?"],
    [{ ...base, syncs: [{ ...sync, maxDeletePercentage: 5 }] }, "syncs[0].maxDeletePercentage: unknown key; did you mean 'maxDeletePercent'?"],
    [{ ...base, syncs: [{ ...sync, match: { by: ["phone"], source: [] } }] }, "syncs[0].match.source: unknown key; did you mean 'sources'?"],
    [{ ...base, quo: { requestPerSecond: 5 } }, "quo.requestPerSecond: unknown key; did you mean 'requestsPerSecond'?"],
    [{ ...base, State: "./s.db" }, "State: unknown key; did you mean 'state'?"],
    [{ ...base, workspaces: { west: { apikeyenv: "WEST" } } }, "workspaces.west.apikeyenv: unknown key; did you mean 'apiKeyEnv'?"],
  ])("names the key and the one meant (%#)", (data, expected) => {
    expect(errorOf(data)).toContain(expected);
  });

  it("lists every unknown key of an object, one line each", () => {
    const msg = errorOf({ ...base, syncs: [{ ...sync, defaultcountry: "GB", delets: "never" }] });
    expect(msg).toContain("\n  syncs[0].defaultcountry: unknown key; did you mean 'defaultCountry'?");
    expect(msg).toContain("\n  syncs[0].delets: unknown key; did you mean 'deletes'?");
  });

  it.each([
    ["feilds", ["name", "fields", "key"], "fields"],
    ["FIELDS", ["fields"], "fields"],
    ["sycns", ["state", "syncs"], "syncs"],
    ["apiKey", ["apiKeyEnv", "auth"], "apiKeyEnv"],
    ["colour", ["name", "key", "fields"], undefined],
    ["x", ["key"], undefined],
  ])("didYouMean(%j) is %j", (word, candidates, expected) => {
    expect(didYouMean(word, candidates)).toBe(expected);
  });
});

describe("loading a config file", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string, name = "quo-sync.config.json"): string => {
    dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-config-"));
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const loadError = (file: string): string => {
    try {
      loadConfig(file);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error("expected a ConfigError");
  };
  const good = JSON.stringify(base, null, 2);

  it.each([
    ["a trailing comma", '{\n  "state": "./s.db",\n  "syncs": [],\n}\n', 4, 1, "Expected double-quoted property name"],
    ["a comment", '{\n  // leads from the CRM\n  "syncs": []\n}\n', 2, 3, "Expected property name or '}'"],
    ["a missing value", '{\n  "state": ,\n  "syncs": []\n}', 2, 12, "Unexpected token ','"],
    ["an unquoted word", '{\n  "syncs": [\n    { "name": leads }\n  ]\n}', 3, 15, "Unexpected token 'l'"],
    ["a missing closing brace", '{\n  "state": "./s.db"\n', 3, 1, "Expected ',' or '}' after property value"],
    ["an empty file", "", 1, 1, "Unexpected end of JSON input"],
    ["text after the object", "{}\n}\n", 2, 1, "Unexpected non-whitespace character after JSON"],
  ])("names the line and column of %s", (_name, text, line, column, message) => {
    const file = write(text);
    const msg = loadError(file);
    expect(msg).toBe(`${file}:${line}:${column}: ${message} (the config file must be JSON: no comments, no trailing commas)`);
    // Never the file's text itself.
    expect(msg).not.toContain("leads");
  });

  it("reads a file saved with a byte-order mark", () => {
    expect(loadConfig(write(`\uFEFF${good}`)).config.syncs[0]!.name).toBe("leads");
  });

  it("names the resolved file when it is missing or a directory", () => {
    const file = write(good);
    const missing = path.join(dir, "nowhere", "quo-sync.config.json");
    expect(loadError(path.relative(process.cwd(), missing))).toBe(`config file ${missing} does not exist (use --config FILE)`);
    expect(loadError(dir)).toBe(`config file ${dir} is a directory (use --config FILE)`);
    expect(loadConfig(path.relative(process.cwd(), file)).file).toBe(file);
  });

  it("resolves every path in it against the config file's folder, not the working directory", () => {
    const sheets = { type: "google-sheets", spreadsheetId: "s", range: "Sheet1", credentials: "../keys/sa.json" };
    const file = write(
      JSON.stringify({
        ...base,
        state: "data/state.db",
        syncs: [base.syncs[0], { ...base.syncs[0], name: "sheet", source: sheets }, { name: "crm", source: { type: "hubspot" }, fields: { firstName: "firstname" } }],
      }),
      "sub.config.json",
    );
    const { config, baseDir } = loadConfig(file);
    expect(baseDir).toBe(dir);
    expect(config.state).toBe(path.join(dir, "data", "state.db"));
    expect(config.syncs[0]!.source).toMatchObject({ type: "csv", path: path.join(dir, "contacts.csv") });
    expect(config.syncs[1]!.source).toMatchObject({ credentials: path.join(path.dirname(dir), "keys", "sa.json") });
    expect(config.syncs[2]!.source).toEqual(expect.objectContaining({ type: "hubspot" }));
    // A PostgreSQL URL is not a path.
    const pg = write(JSON.stringify({ ...base, state: "postgres://u@db/quo" }));
    expect(loadConfig(pg).config.state).toBe("postgres://u@db/quo");
  });
});

describe("the state location", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const located = (state: string, env: NodeJS.ProcessEnv = {}): string => {
    dir = mkdtempSync(path.join(os.tmpdir(), "quo-sync-state-"));
    mkdirSync(path.join(dir, "data"));
    const file = path.join(dir, "quo-sync.config.json");
    writeFileSync(file, JSON.stringify({ ...base, state }));
    const loaded: LoadedConfig = loadConfig(file);
    return stateLocation(loaded, env);
  };

  it("is the file the config names, resolved against its folder", () => {
    expect(located("data/quo-sync.db")).toBe(path.join(dir, "data", "quo-sync.db"));
    expect(located("data/quo-sync.db", { QUO_SYNC_DATABASE_URL: "postgres://u@db/quo" })).toBe("postgres://u@db/quo");
  });

  it.each([["data"], ["./data/"], ["new-folder/"]])("refuses %j: a folder, not a file", (state) => {
    let message = "";
    try {
      located(state);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    const folder = path.join(dir, state.replace(/^\.\//, "").replace(/\/$/, ""));
    expect(message).toBe(`state: ${folder} is a directory; give a file path such as ${path.join(folder, "quo-sync.db")}`);
  });
});
