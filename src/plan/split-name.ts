/**
 * A full name, as people write it in one cell, split into the two name parts a Quo contact has:
 * first and last (its `defaultFields` have no middle name, title or suffix; docs/quo-api.md,
 * "Creating a contact"). The rules, and why each (README, "Full names"):
 *
 * - "Last, First" when a comma follows the family name ("García Márquez, Gabriel"); a comma before
 *   suffixes alone ("John Smith, Jr.") is not that form.
 * - Otherwise the last word is the last name, with the particles right before it, in any case
 *   ("Anne-Marie van der Berg" → "van der Berg"); every other word is the first name, middle names
 *   included ("Mary Ann Smith" → "Mary Ann"), so first + " " + last reads as the name was written.
 * - Titles in front ("Dr.", "Prof.", "Mrs") are dropped; suffixes ("Jr.", "III", "PhD") stay at the
 *   end of the last name, where they were: they tell a father from his son.
 * - One word is a first name alone ("Madonna"); a blank cell gives blank parts.
 * - Case and order are kept: an all-caps name stays so, and a name written family name first (as
 *   Chinese, Japanese and Korean names often are: "山田 太郎") keeps its first word as firstName,
 *   since nothing in the cell says which order it was written in; Quo shows it as written.
 *
 * Pure and total: never throws, whatever the text.
 */

/** The two parts: each trimmed, with inner runs of whitespace made one space; either may be "". */
export interface SplitName {
  first: string;
  last: string;
}

/**
 * Bump when a rule or a word list changes what a name splits into, so that rows mapped with a
 * split are mapped afresh once after the upgrade (src/plan/source-hash.ts).
 */
export const SPLIT_NAME_VERSION = 1;

/** Forms of address written before a name; compared lower-case, without a final '.'. */
const TITLES = new Set([
  "mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "prof", "professor", "rev", "fr", "sir", "dame", "hon",
  "herr", "frau", "mme", "mlle", "madame", "monsieur", "sr", "sra", "srta", "dra", "dott",
]);

/**
 * Words written after a name; compared lower-case without dots ("Ph.D." is "phd"). Left out on
 * purpose: "I" and "V" (initials), "MA", "DO" and "PE", which are also family names or particles
 * ("Jack Ma", "do Nascimento").
 */
const SUFFIXES = new Set(["jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "md", "dds", "dmd", "esq", "cpa", "mba", "rn", "jd"]);

/**
 * Words that belong to the family name that follows them (Dutch, German, French, Italian,
 * Spanish, Portuguese, Arabic and Malay names); compared lower-case. "ben" and "lo" are left out:
 * as middle names (Ben, Lo) they are more common than as particles.
 */
const PARTICLES = new Set([
  "van", "von", "vom", "der", "den", "ter", "ten", "te", "'t", "zu", "zum", "zur", "de", "del", "della", "dei", "degli", "di", "da", "dal",
  "das", "dos", "do", "du", "la", "le", "st", "st.", "ste", "saint", "sainte", "san", "santa", "af", "av", "bin", "binti", "bint", "ibn",
  "al", "el",
]);

const WHITESPACE_RE = /\s+/;

/**
 * Splits `text` (a cell, as it is) into first and last name by the rules in the module's comment.
 * Every word of the result is a word of `text`; only titles in front, and commas, are left out.
 * The first name is "" only when `text` holds nothing but whitespace and commas. Never throws.
 */
export function splitName(text: string): SplitName {
  const segments = text
    .split(",")
    .map(wordsOf)
    .filter((words) => words.length > 0);
  if (segments.length === 0) return { first: "", last: "" };

  // "John Smith, Jr., PhD": trailing segments of suffixes only belong to the name, not a comma form.
  const suffixes: string[] = [];
  while (segments.length > 1 && (segments[segments.length - 1] as string[]).every(isSuffix)) suffixes.unshift(...(segments.pop() as string[]));

  if (segments.length === 1) return splitWritten(segments[0] as string[], suffixes);

  // "García Márquez, Gabriel", "Smith, John Jr.", "Smith, John, Jr.": family name, comma, the rest.
  const last = withoutTitles(segments[0] as string[]);
  const first = withoutTitles(segments.slice(1).flat());
  while (first.length > 1 && isSuffix(first[first.length - 1] as string)) suffixes.unshift(first.pop() as string);
  return { first: first.join(" "), last: [...last, ...suffixes].join(" ") };
}

/** A name written given name first: `words` (no commas) and the suffixes found after a comma. */
function splitWritten(all: readonly string[], after: readonly string[]): SplitName {
  const words = withoutTitles(all);
  const suffixes = [...after];
  while (words.length > 1 && isSuffix(words[words.length - 1] as string)) suffixes.unshift(words.pop() as string);
  if (words.length === 1) return { first: words[0] as string, last: suffixes.join(" ") };
  // The first word is always a given name ("Van Morrison"), whatever it looks like.
  let start = words.length - 1;
  while (start > 1 && isParticle(words[start - 1] as string)) start--;
  return { first: words.slice(0, start).join(" "), last: [...words.slice(start), ...suffixes].join(" ") };
}

function wordsOf(text: string): string[] {
  return text.split(WHITESPACE_RE).filter((w) => w !== "");
}

/** `words` without the titles in front; the last word stays even if it looks like one ("Dr."). */
function withoutTitles(words: readonly string[]): string[] {
  let i = 0;
  while (i < words.length - 1 && TITLES.has((words[i] as string).toLowerCase().replace(/\.$/, ""))) i++;
  return words.slice(i);
}

function isSuffix(word: string): boolean {
  return SUFFIXES.has(word.toLowerCase().replaceAll(".", ""));
}

function isParticle(word: string): boolean {
  return PARTICLES.has(word.toLowerCase());
}
