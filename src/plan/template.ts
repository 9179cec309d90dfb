/**
 * Field templates: `{{Column}}` placeholders in literal text, as in `"{{Title}} ({{Department}})"`.
 * Mustache (https://github.com/janl/mustache.js) is used only to tokenize the text, so the syntax
 * people know from it reads the same; rendering is this module's own substitution: no HTML
 * escaping, no sections, no lookups into nested data. A template that uses anything but text and
 * plain `{{name}}` tags is refused when the config is loaded.
 *
 * Blanks collapse: a blank placeholder goes together with the literal text (no letter or digit in
 * it) that joins it to its kept neighbours, and a bracket pair whose placeholders are all blank goes
 * with them, so `{{City}}, {{State}}` gives `MA`, `Boston` or nothing, and `{{Title}} ({{Department}})`
 * gives `Engineer` or `(Sales)`. A value's own text is never touched but for runs of whitespace.
 * Pure.
 */
import Mustache from "mustache";

/**
 * Bump when the way a template turns cells into text changes, so rows mapped by an older rule are
 * mapped afresh (src/plan/source-hash.ts includes it in the fingerprint of a sync using templates).
 */
export const TEMPLATE_VERSION = 1;

/** One piece of a parsed template: literal text, a placeholder, or a bracket pair and what it wraps. */
export type TemplateNode =
  | { kind: "text"; text: string }
  | { kind: "slot"; column: string }
  | { kind: "group"; open: string; close: string; children: TemplateNode[] };

/** A parsed template: its text, its pieces, and the columns its placeholders read (first use order, once each). */
export interface Template {
  source: string;
  nodes: TemplateNode[];
  columns: string[];
}

/** A template, or why the text is not one (said without the config path, which the caller adds). */
export type ParsedTemplate = { ok: true; template: Template } | { ok: false; reason: string };

const OPENERS: Record<string, string> = { "(": ")", "[": "]" };
const CLOSERS = new Set(Object.values(OPENERS));
const LETTER_OR_DIGIT_RE = /[\p{L}\p{N}]/u;
const WHITESPACE_RUN_RE = /\s+/g;

/** The words a refused tag is named by. */
const TAG_NAMES: Record<string, string> = {
  "#": "a section {{#…}}",
  "^": "an inverted section {{^…}}",
  "/": "a section end {{/…}}",
  ">": "a partial {{>…}}",
  "&": "an unescaped tag ({{{…}}} or {{&…}})",
  "{": "an unescaped tag {{{…}}}",
  "!": "a comment {{!…}}",
  "=": "a delimiter change {{=…=}}",
};

/**
 * Parses a template. Refused: text Mustache cannot tokenize (an unclosed tag), any tag other than a
 * plain `{{name}}` (named in the reason), an empty `{{ }}`, and a template without any placeholder
 * (a constant belongs in `value`). Whitespace inside the braces is trimmed; a column name may hold
 * spaces and dots. Never throws.
 */
export function parseTemplate(source: string): ParsedTemplate {
  let tokens: unknown[][];
  try {
    // A fresh copy each time: Mustache caches parses, and its tokens are not ours to keep.
    tokens = Mustache.parse(source).map((t) => [...(t as unknown[])]);
  } catch (e) {
    return { ok: false, reason: `not a template: ${e instanceof Error ? e.message : String(e)}` };
  }
  const flat: ({ kind: "text"; text: string } | { kind: "slot"; column: string })[] = [];
  for (const t of tokens) {
    const [type, value] = t as [string, string];
    if (type === "text") flat.push({ kind: "text", text: value });
    else if (type === "name") {
      const column = value.trim();
      if (column === "") return { ok: false, reason: "an empty placeholder {{ }}: name a column inside the braces" };
      flat.push({ kind: "slot", column });
    } else {
      return { ok: false, reason: `${TAG_NAMES[type] ?? `the tag '${type}'`} ('${value}') is not supported: a template holds only text and {{Column}} placeholders` };
    }
  }
  const columns = [...new Set(flat.flatMap((n) => (n.kind === "slot" ? [n.column] : [])))];
  if (columns.length === 0) return { ok: false, reason: 'no {{Column}} placeholder: for a constant use { "value": … }' };
  return { ok: true, template: { source, nodes: nest(flat), columns } };
}

/** The parsed template; throws `Error` with the reason for text `parseTemplate` refuses (the config has checked it already). */
export function compileTemplate(source: string): Template {
  const parsed = parseTemplate(source);
  if (!parsed.ok) throw new Error(`template '${source}': ${parsed.reason}`);
  return parsed.template;
}

/**
 * The template's text for one row: each placeholder replaced by `valueOf(column)` (trimmed),
 * blanks collapsed as the module says, runs of whitespace made one space, the ends trimmed. Blank
 * ('') when every placeholder is blank. Never throws.
 */
export function renderTemplate(template: Template, valueOf: (column: string) => string): string {
  const values = new Map<string, string>();
  for (const c of template.columns) values.set(c, valueOf(c).trim());
  let kept = 0;
  for (const v of values.values()) if (v !== "") kept++;
  if (kept === 0) return "";
  return joinNodes(template.nodes, values).replace(WHITESPACE_RUN_RE, " ").trim();
}

/** Text that is kept as it is (`anchor`), text that only joins (`sep`), or a blank placeholder or bracket pair. */
type Piece = { kind: "anchor"; text: string } | { kind: "sep"; text: string } | { kind: "blank" };

/** The nodes' text: a run of joining text with a blank in it is cut to one joint between kept text, and to nothing at either end. */
function joinNodes(nodes: readonly TemplateNode[], values: ReadonlyMap<string, string>): string {
  let out = "";
  let seps: string[] = [];
  let blank = false;
  let started = false;
  for (const piece of nodes.map((n) => pieceOf(n, values))) {
    if (piece.kind === "sep") seps.push(piece.text);
    else if (piece.kind === "blank") blank = true;
    else {
      if (!blank) out += seps.join("");
      else if (started) out += joint(seps);
      out += piece.text;
      started = true;
      seps = [];
      blank = false;
    }
  }
  if (!blank) out += seps.join("");
  return out;
}

/** The one joint kept where a blank was cut out between two kept values: the first with punctuation, else the first with anything. */
function joint(seps: readonly string[]): string {
  return seps.find((s) => s.trim() !== "") ?? seps.find((s) => s !== "") ?? "";
}

function pieceOf(node: TemplateNode, values: ReadonlyMap<string, string>): Piece {
  if (node.kind === "text") return LETTER_OR_DIGIT_RE.test(node.text) ? { kind: "anchor", text: node.text } : { kind: "sep", text: node.text };
  if (node.kind === "slot") {
    const v = values.get(node.column) ?? "";
    return v === "" ? { kind: "blank" } : { kind: "anchor", text: v };
  }
  // A bracket pair whose placeholders are all blank goes with them; one without placeholders is plain text.
  const slots = slotsOf(node.children);
  if (slots.length > 0 && slots.every((c) => (values.get(c) ?? "") === "")) return { kind: "blank" };
  return { kind: "anchor", text: node.open + joinNodes(node.children, values) + node.close };
}

function slotsOf(nodes: readonly TemplateNode[]): string[] {
  return nodes.flatMap((n) => (n.kind === "slot" ? [n.column] : n.kind === "group" ? slotsOf(n.children) : []));
}

/**
 * Nests the flat pieces by the bracket pairs of their literal text: `(` with `)`, `[` with `]`.
 * A bracket without its partner stays plain text. Brackets inside values are never seen here.
 */
function nest(flat: readonly ({ kind: "text"; text: string } | { kind: "slot"; column: string })[]): TemplateNode[] {
  interface Open {
    open: string;
    children: TemplateNode[];
  }
  const root: TemplateNode[] = [];
  const stack: Open[] = [];
  const here = (): TemplateNode[] => (stack.length ? (stack[stack.length - 1] as Open).children : root);
  const addText = (text: string) => {
    const list = here();
    const last = list[list.length - 1];
    if (last?.kind === "text") last.text += text;
    else list.push({ kind: "text", text });
  };
  for (const n of flat) {
    if (n.kind === "slot") {
      here().push({ ...n });
      continue;
    }
    for (const ch of n.text) {
      if (Object.hasOwn(OPENERS, ch)) stack.push({ open: ch, children: [] });
      else if (CLOSERS.has(ch) && stack.length && OPENERS[(stack[stack.length - 1] as Open).open] === ch) {
        const g = stack.pop() as Open;
        here().push({ kind: "group", open: g.open, close: ch, children: g.children });
      } else addText(ch);
    }
  }
  // Openers never closed are plain text, their contents spliced back where they stood.
  while (stack.length) {
    const g = stack.pop() as Open;
    addText(g.open);
    for (const c of g.children) {
      if (c.kind === "text") addText(c.text);
      else here().push(c);
    }
  }
  return root;
}
