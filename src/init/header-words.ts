/**
 * Column headers as words, so that `init` can read "E-mail 2 Address", "MobilePhone",
 * "Person - Phone - Work" and "Téléphone" the same way whatever the exporting tool's spelling.
 * Pure.
 */

/** Words that carry no meaning of their own in an export's header ("E-mail 1 - Value", "Assistant's Phone"). */
const FILLER = new Set(["value", "s", "the", "of", "de", "du", "des", "la", "le", "del", "der", "die", "das"]);

/**
 * Words an export puts before every column of a record ("Person - Name", "Contact Owner", "Lead ID"):
 * dropped when more words follow, so "Person - Phone - Work" reads as "phone work".
 */
const ENTITY_PREFIXES = new Set(["person", "contact", "lead", "customer", "client", "member"]);

/**
 * A header's words: lower case, accents removed, camelCase and letters-digits split, punctuation
 * dropped, "e mail" joined into "email". `headerWords("E-mail 2 Address")` is
 * `["email", "2", "address"]`; `headerWords("MobilePhone")` is `["mobile", "phone"]`. Never throws.
 */
export function headerWords(header: string): string[] {
  const spaced = header
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/(\p{Ll})(\p{Lu})/gu, "$1 $2")
    .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, "$1 $2")
    .replace(/(\p{L})(\p{N})/gu, "$1 $2")
    .replace(/(\p{N})(\p{L})/gu, "$1 $2")
    .toLowerCase();
  const words = spaced.split(/[^\p{L}\p{N}]+/u).filter((w) => w !== "");
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const next = words[i + 1];
    if (w === "e" && next !== undefined && /^mail/.test(next)) {
      out.push(`e${next}`);
      i++;
    } else out.push(w);
  }
  return out;
}

/**
 * The forms of a header that the vocabulary is looked up with: the words as written, and the words
 * without filler and without the record prefix ("person", "contact", …). Both leave digits out;
 * `number` keeps the first one (2 in "Phone 2 - Value"), which only phone and e-mail labels use.
 */
export interface HeaderForms {
  /** The words as written, digits removed. */
  literal: string[];
  /** Filler words dropped, and the record prefix too when more words follow. */
  stripped: string[];
  /** True when `stripped` dropped a record prefix ("Lead ID" → "id"). */
  prefixed: boolean;
  /** The first number in the header, if any ("Phone 2" → 2). */
  number?: number;
}

/** See `HeaderForms`. Never throws. */
export function headerForms(header: string): HeaderForms {
  const words = headerWords(header);
  const digits = words.find((w) => /^\d+$/.test(w));
  const literal = words.filter((w) => !/^\d+$/.test(w));
  let stripped = literal.filter((w) => !FILLER.has(w));
  if (stripped.length === 0) stripped = literal;
  const prefixed = stripped.length > 1 && ENTITY_PREFIXES.has(stripped[0] as string);
  if (prefixed) stripped = stripped.slice(1);
  return { literal, stripped, prefixed, ...(digits !== undefined ? { number: Number(digits) } : {}) };
}

/** Words joined without spaces: "first name", "First_Name" and "firstname" all read "firstname". */
export function squash(words: readonly string[]): string {
  return words.join("");
}
