/**
 * `.env.example` is where a new user learns the environment: it must name every variable the code
 * reads and the README documents, and parse as a `.env` file with nothing secret filled in.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse } from "dotenv";
import { describe, expect, it } from "vitest";
import { ROOT } from "../integration/harness.js";

const example = readFileSync(path.join(ROOT, ".env.example"), "utf8");

/** The names in the README's Environment table. */
function readmeVariables(): string[] {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Environment");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
}

/** Environment variables read anywhere in src/ and connectors/ (`env.NAME` or `env["NAME"]`). */
function variablesInCode(): string[] {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith(".ts")) {
        for (const m of readFileSync(file, "utf8").matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)|\["([A-Z][A-Z0-9_]+)"\])/g)) names.add((m[1] ?? m[2])!);
      }
    }
  };
  walk(path.join(ROOT, "src"));
  walk(path.join(ROOT, "connectors"));
  return [...names].sort();
}

describe(".env.example", () => {
  it("names every variable of the README's table and every one the code reads", () => {
    const documented = readmeVariables();
    expect(documented).toEqual(expect.arrayContaining(["QUO_API_KEY", "MATON_API_KEY", "QUO_BASE_URL", "HUBSPOT_ACCESS_TOKEN", "GOOGLE_OAUTH_TOKEN_URL"]));
    const inCode = variablesInCode();
    expect(inCode).toContain("QUO_API_KEY");
    for (const name of new Set([...documented, ...inCode])) {
      expect(example, name).toMatch(new RegExp(`^#? ?${name}=`, "m"));
    }
  });

  it("parses as a .env file with no secret filled in", () => {
    const parsed = parse(example);
    expect(parsed).toEqual({ QUO_API_KEY: "" });
  });
});
