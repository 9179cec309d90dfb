/**
 * The layering holds in types too (docs/architecture.md, "Module map"): the pure planner and the
 * renderers import neither the executor, the state store nor the Quo client, not even for a type —
 * the types they share are the glossary's, in src/model.ts. Read from the sources, type-only
 * imports included.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "../integration/harness.js";

/** The src/ modules a file imports (type-only ones too), as paths relative to src/. */
function localImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((f) => f.startsWith("."))
    .map((f) => path.relative(path.join(ROOT, "src"), path.resolve(path.dirname(file), f)).replace(/\.js$/, ".ts"));
}

const LAYERS: { folder: string; forbidden: readonly string[] }[] = [
  { folder: "plan", forbidden: ["execute/", "state/", "quo/", "report/", "daemon/", "commands/", "net/", "run.ts"] },
  { folder: "report", forbidden: ["execute/", "state/", "quo/", "daemon/", "commands/", "net/", "run.ts"] },
];

describe("layers", () => {
  it.each(LAYERS)("src/$folder/ imports nothing from $forbidden", ({ folder, forbidden }) => {
    const dir = path.join(ROOT, "src", folder);
    const offending: string[] = [];
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      for (const imported of localImports(path.join(dir, f))) if (forbidden.some((p) => imported.startsWith(p))) offending.push(`src/${folder}/${f} → src/${imported}`);
    }
    expect(offending).toEqual([]);
  });

  it("the check sees a type-only import", () => {
    const probe = path.join(ROOT, "src", "plan", "planner.ts");
    expect(localImports(probe)).toContain("model.ts");
    const { importedFiles } = ts.preProcessFile('import type { ActionOutcome } from "../execute/executor.js";', true, true);
    expect(importedFiles.map((f) => f.fileName)).toEqual(["../execute/executor.js"]);
  });
});
