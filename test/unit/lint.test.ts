import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// The project's own ESLint config (eslint.config.js) with its type-aware rules, on a small file of
// the TypeScript project (so the type checker knows it) whose text is swapped for each case.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const probe = path.join(root, "test/fixtures/lint/probe.ts");
const awaited = readFileSync(probe, "utf8");

async function rulesReported(code: string): Promise<string[]> {
  // Under CI=true typescript-eslint assumes a single run over files as they are on disk, and would
  // check the probe's file instead of each case's text: this test lints changed text on purpose.
  const eslint = new ESLint({ cwd: root, overrideConfig: { languageOptions: { parserOptions: { disallowAutomaticSingleRunInference: true } } } });
  const [result] = await eslint.lintText(code, { filePath: probe });
  return (result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

describe("npm run lint", () => {
  it("passes the awaited call", async () => {
    expect(awaited).toContain("await store.save(key);");
    expect(await rulesReported(awaited)).toEqual([]);
  });

  it("reports the call to an async store that nobody awaits", async () => {
    const unawaited = awaited.replace("await store.save(key);", "store.save(key);");
    expect(await rulesReported(unawaited)).toEqual(["@typescript-eslint/no-floating-promises"]);
  });

  it("reports an async callback where a void one is expected", async () => {
    const callback = awaited.replace(
      /for \(const key of keys\) \{[^}]*\}/,
      "keys.forEach(async (key) => {\n    await store.save(key);\n  });",
    );
    expect(await rulesReported(callback)).toEqual(["@typescript-eslint/no-misused-promises"]);
  });
});
