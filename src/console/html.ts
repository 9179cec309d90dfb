/**
 * The console's one HTML template helper: `html` is a tagged template that escapes every
 * interpolated value unless it is itself the result of `html` (or of `unsafeRaw`, kept for markup
 * built by a renderer that escapes on its own). Pages are built from these values only, so text
 * from a config, a source row or a URL can never become markup by being concatenated.
 */

const ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Markup that is safe to include as it is. Only `html`, `join` and `unsafeRaw` make one. */
export class SafeHtml {
  /** Use `html`, `join` or `unsafeRaw`; the constructor takes markup on trust. */
  private constructor(readonly text: string) {}

  /** Internal: wraps markup already checked or escaped. */
  static trusted(text: string): SafeHtml {
    return new SafeHtml(text);
  }

  toString(): string {
    return this.text;
  }
}

/** What may be interpolated: text (escaped), numbers, markup, nothing (null, undefined, false: empty), or a list of these. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

/** Text for HTML content or a quoted attribute value. */
export function escapeText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(v: HtmlValue): string {
  if (v instanceof SafeHtml) return v.text;
  if (v === null || v === undefined || v === false) return "";
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(render).join("");
  return escapeText(String(v as string | number | true));
}

/**
 * Builds markup from a template: the literal parts are taken as written (they are the page's own
 * markup), every `${value}` is escaped unless it is a `SafeHtml`. Arrays are joined, null,
 * undefined and false render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return SafeHtml.trusted(out);
}

/** Markup from a renderer that escapes its own values (the HTML report); never for text from outside. */
export function unsafeRaw(markup: string): SafeHtml {
  return SafeHtml.trusted(markup);
}
