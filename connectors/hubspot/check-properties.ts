/**
 * The start-of-run check of a HubSpot mapping: HubSpot silently leaves out a requested property it
 * does not know, so a misspelt name would read as blank on every contact (and blank a field in Quo).
 * So an unknown property stops the run before any write, naming it and the closest existing ones.
 */
import { ConfigError } from "../../src/errors.js";
import { editDistance } from "../../src/closest-word.js";
import type { HubspotProperty } from "./hubspot-client.js";
import { HUBSPOT_SUGGESTIONS } from "./limits.js";

/**
 * Up to `HUBSPOT_SUGGESTIONS` property names near `wanted`, nearest first: a property whose label
 * is `wanted` (people often copy the label, "First Name", for the name, "firstname"), then names by
 * case-insensitive edit distance, kept when the distance is small for the word's length (the rule
 * `closest()` in src/closest-word.ts uses) or one contains the other.
 */
export function closestProperties(wanted: string, properties: readonly HubspotProperty[]): string[] {
  const w = wanted.toLowerCase();
  const squashed = w.replace(/[\s_-]+/g, "");
  const limit = Math.max(2, Math.floor(w.length / 3));
  const scored: { name: string; score: number }[] = [];
  for (const p of properties) {
    const name = p.name.toLowerCase();
    if (p.label.toLowerCase() === w || name.replace(/[\s_-]+/g, "") === squashed) {
      scored.push({ name: p.name, score: -1 });
      continue;
    }
    const d = editDistance(w, name);
    const score = name.includes(w) || w.includes(name) ? Math.min(d, 1) : d;
    if (score <= limit) scored.push({ name: p.name, score });
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, HUBSPOT_SUGGESTIONS).map((s) => s.name);
}

/**
 * Throws `ConfigError` listing every name in `wanted` that is not a contact property of the account
 * (names are compared exactly, as HubSpot does), each with its closest existing names.
 */
export function checkProperties(wanted: readonly string[], properties: readonly HubspotProperty[]): void {
  const known = new Set(properties.map((p) => p.name));
  const unknown = wanted.filter((name) => !known.has(name));
  if (unknown.length === 0) return;
  const lines = unknown.map((name) => {
    const near = closestProperties(name, properties);
    const hint = near.length ? `; closest: ${near.map((n) => `'${n}'`).join(", ")}` : "";
    return `HubSpot has no contact property named '${name}'${hint}`;
  });
  throw new ConfigError(
    `${lines.join("\n")}\n  use HubSpot's internal property names (Settings → Properties → a property → "Internal name"), not their labels; nothing was changed`,
  );
}
