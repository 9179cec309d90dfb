/**
 * package.json's Node ranges are honest. `engines` (what the installed command runs on) admits no
 * Node version that a runtime dependency refuses; `devEngines` (what `npm ci && npm test` needs)
 * admits none that any dependency refuses. npm only warns about either, so a dependency update that
 * raises a minimum would otherwise pass unnoticed. The ranges come from package-lock.json, which
 * records each package's `engines`, other platforms' packages included.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** The two functions of the devDependency semver used here (it ships no types of its own). */
const semver = createRequire(import.meta.url)("semver") as {
  subset(sub: string, sup: string): boolean;
  satisfies(version: string, range: string): boolean;
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
  devEngines: { runtime: { name: string; version: string } };
};
const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version?: string; dev?: boolean; devOptional?: boolean; engines?: unknown }>;
};

/** Each locked package's `engines.node` (some old packages give `engines` as an array: none then). */
function nodeRanges(runtimeOnly: boolean): { id: string; range: string }[] {
  return Object.entries(lock.packages).flatMap(([where, e]) => {
    if (!where || (runtimeOnly && (e.dev || e.devOptional))) return [];
    const range = (e.engines as { node?: unknown } | undefined)?.node;
    return typeof range === "string" ? [{ id: `${where.slice(where.lastIndexOf("node_modules/") + 13)}@${e.version}`, range }] : [];
  });
}

describe("the Node versions package.json claims", () => {
  it.each([
    ["engines.node", pkg.engines.node, true],
    ["devEngines.runtime.version", pkg.devEngines.runtime.version, false],
  ] as const)("%s (%s) admits no version a dependency refuses", (_name, ours, runtimeOnly) => {
    const ranges = nodeRanges(runtimeOnly);
    expect(ranges.length).toBeGreaterThan(runtimeOnly ? 50 : 150);
    expect(ranges.filter(({ range }) => !semver.subset(ours, range)).map(({ id, range }) => `${id} wants ${range}`)).toEqual([]);
  });

  it("admit the Node this runs on, and the development range lies within the installed one", () => {
    expect(pkg.devEngines.runtime.name).toBe("node");
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
    expect(semver.satisfies(process.version, pkg.devEngines.runtime.version)).toBe(true);
    expect(semver.subset(pkg.devEngines.runtime.version, pkg.engines.node)).toBe(true);
  });
});
