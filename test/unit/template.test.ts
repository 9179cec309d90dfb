/**
 * Templates: parsing (only text and plain `{{name}}` placeholders) and rendering with blanks
 * collapsed, by examples and by properties.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileTemplate, parseTemplate, renderTemplate } from "../../src/plan/template.js";

const render = (text: string, values: Record<string, string>): string => renderTemplate(compileTemplate(text), (c) => values[c] ?? "");

describe("renderTemplate: blanks collapse", () => {
  it.each<[string, Record<string, string>, string]>([
    ["{{First}} {{Middle}} {{Last}}", { First: "Ann", Middle: "B.", Last: "Lee" }, "Ann B. Lee"],
    ["{{First}} {{Middle}} {{Last}}", { First: "Ann", Last: "Lee" }, "Ann Lee"],
    ["{{First}} {{Middle}} {{Last}}", { Middle: "B." }, "B."],
    ["{{Title}} ({{Department}})", { Title: "Engineer", Department: "Sales" }, "Engineer (Sales)"],
    ["{{Title}} ({{Department}})", { Title: "Engineer" }, "Engineer"],
    ["{{Title}} ({{Department}})", { Department: "Sales" }, "(Sales)"],
    ["{{Title}} ({{Department}})", {}, ""],
    ["{{City}}, {{State}}", { City: "Boston", State: "MA" }, "Boston, MA"],
    ["{{City}}, {{State}}", { State: "MA" }, "MA"],
    ["{{City}}, {{State}}", { City: "Boston" }, "Boston"],
    ["{{City}}, {{State}}", {}, ""],
    // A value's own punctuation is never touched; its runs of whitespace are.
    ["{{Last}}, {{First}}", { Last: "Smith, Jr.", First: "(Bob)" }, "Smith, Jr., (Bob)"],
    ["{{Title}} ({{Department}})", { Title: "Lead  (acting)", Department: "" }, "Lead (acting)"],
    // The joint kept between two kept values, when a blank between them goes: the one with punctuation.
    ["{{Street}} {{Unit}}, {{City}}", { Street: "1 Main St", City: "Boston" }, "1 Main St, Boston"],
    ["{{A}} - {{B}} - {{C}}", { A: "a", C: "c" }, "a - c"],
    // Brackets around several placeholders stay while one of them is kept.
    ["{{Name}} ({{Title}}, {{Team}})", { Name: "Ann", Team: "Ops" }, "Ann (Ops)"],
    ["{{Name}} ({{Title}}, {{Team}})", { Name: "Ann" }, "Ann"],
    ["{{Name}} [{{Id}}]", { Id: "7" }, "[7]"],
    // Literal words stay: only text with no letter or digit joins.
    ["Dept {{D}} of {{E}}", { D: "Sales" }, "Dept Sales of"],
    // Unbalanced brackets are plain text.
    ["{{A}} ({{B}}", { A: "a", B: "b" }, "a (b"],
    ["{{A}}) {{B}}", { A: "a", B: "b" }, "a) b"],
    ["{{ Job Title }} · {{Dept. Name}}", { "Job Title": "CTO", "Dept. Name": "R&D" }, "CTO · R&D"],
  ])("%s with %j → %j", (text, values, expected) => {
    expect(render(text, values)).toBe(expected);
  });
});

describe("parseTemplate", () => {
  it("reads each placeholder's column once, in order, spaces inside the braces trimmed", () => {
    const parsed = parseTemplate("{{ B }} {{A}} {{B}} {{Dept. Name}}");
    expect(parsed.ok && parsed.template.columns).toEqual(["B", "A", "Dept. Name"]);
  });

  it.each<[string, string]>([
    ["{{#vip}}VIP{{/vip}} {{Name}}", "a section {{#…}} ('vip') is not supported: a template holds only text and {{Column}} placeholders"],
    ["{{^vip}}x{{/vip}} {{Name}}", "an inverted section {{^…}} ('vip') is not supported"],
    ["{{> card}} {{Name}}", "a partial {{>…}} ('card') is not supported"],
    ["{{{Name}}}", "an unescaped tag ({{{…}}} or {{&…}}) ('Name') is not supported"],
    ["{{& Name}}", "an unescaped tag ({{{…}}} or {{&…}}) ('Name') is not supported"],
    ["{{! note }} {{Name}}", "a comment {{!…}} ('note') is not supported"],
    ["{{=<% %>=}} <% Name %>", "a delimiter change {{=…=}}"],
    ["Hello there", 'no {{Column}} placeholder: for a constant use { "value": … }'],
    ["", 'no {{Column}} placeholder: for a constant use { "value": … }'],
    ["{{ }}", "an empty placeholder {{ }}: name a column inside the braces"],
    ["{{Name", "not a template: Unclosed tag at 6"],
  ])("refuses %j", (text, reason) => {
    const parsed = parseTemplate(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });

  it("compileTemplate throws the reason for a refused template", () => {
    expect(() => compileTemplate("{{#a}}{{/a}}")).toThrow("template '{{#a}}{{/a}}': a section");
  });
});

/** Literal text between placeholders: punctuation, spaces and brackets, never a letter or digit. */
const JOINT = fc.constantFrom(" ", ", ", " - ", "/", " (", ") ", " [", "] ", ": ", " · ", "", "; ", "(", ")", " | ");
/** A value with no character any joint uses: words of letters and digits, single-spaced. */
const VALUE = fc.array(fc.stringMatching(/^[A-Za-z0-9À-ž]{1,6}$/), { minLength: 1, maxLength: 3 }).map((w) => w.join(" "));
const MAYBE_BLANK = fc.oneof(VALUE, fc.constantFrom("", "  "));

interface Case {
  text: string;
  columns: string[];
  joints: string[];
}

/** A template of 1–5 distinct placeholders with joints between them, optionally leading and trailing text. */
const template = (ends: boolean) =>
  fc
    .record({
      n: fc.integer({ min: 1, max: 5 }),
      joints: fc.array(JOINT, { minLength: 6, maxLength: 6 }),
      lead: ends ? fc.constantFrom("", "(", "- ") : fc.constant(""),
      tail: ends ? fc.constantFrom("", ")", ".") : fc.constant(""),
    })
    .map(({ n, joints, lead, tail }): Case => {
      const columns = Array.from({ length: n }, (_, i) => `Col ${i}`);
      const inner = joints.slice(0, n - 1);
      const text = lead + columns.map((c, i) => `{{${c}}}${i < n - 1 ? inner[i] : ""}`).join("") + tail;
      return { text, columns, joints: [lead, ...inner, tail] };
    });

const collapse = (s: string) => s.replace(/\s+/g, " ").trim();

/** `t` rendered with `values` in its columns' order, and the values that are not blank, trimmed. */
function rendered(t: { text: string; columns: string[] }, values: readonly string[]): { out: string; kept: string[] } {
  const byColumn = Object.fromEntries(t.columns.map((c, i) => [c, values[i] as string]));
  return { out: render(t.text, byColumn), kept: t.columns.map((c) => (byColumn[c] as string).trim()).filter((v) => v !== "") };
}

describe("renderTemplate: properties", () => {
  it("with every placeholder filled, it is plain substitution with whitespace collapsed", () => {
    fc.assert(
      fc.property(template(true), fc.array(VALUE, { minLength: 5, maxLength: 5 }), (t, values) => {
        const byColumn = Object.fromEntries(t.columns.map((c, i) => [c, values[i] as string]));
        const plain = t.text.replace(/\{\{([^}]*)\}\}/g, (_, c: string) => byColumn[c.trim()] as string);
        expect(render(t.text, byColumn)).toBe(collapse(plain));
      }),
    );
  });

  it("every value that is not blank appears verbatim, in order; all blank gives blank", () => {
    fc.assert(
      fc.property(template(true), fc.array(MAYBE_BLANK, { minLength: 5, maxLength: 5 }), (t, values) => {
        const { out, kept } = rendered(t, values);
        if (kept.length === 0) {
          expect(out).toBe("");
          return;
        }
        let from = 0;
        for (const v of kept) {
          const at = out.indexOf(v, from);
          expect(at, `'${v}' in '${out}' after ${from}`).toBeGreaterThanOrEqual(0);
          from = at + v.length;
        }
      }),
    );
  });

  it("a blank never leaves a separator at either end, nor an empty bracket pair", () => {
    fc.assert(
      fc.property(template(false), fc.array(MAYBE_BLANK, { minLength: 5, maxLength: 5 }), (t, values) => {
        const { out, kept } = rendered(t, values);
        if (kept.length === 0) {
          expect(out).toBe("");
          return;
        }
        // Whatever brackets a joint opens before the first kept value, or closes after the last, belong to them.
        const start = out.replace(/^[([]+/, "");
        const end = out.replace(/[)\]]+$/, "");
        expect(start.startsWith(kept[0] as string), `'${out}' starts with '${kept[0]}'`).toBe(true);
        expect(end.endsWith(kept[kept.length - 1] as string), `'${out}' ends with '${kept[kept.length - 1]}'`).toBe(true);
        expect(out).not.toMatch(/\(\s*\)|\[\s*\]/);
      }),
    );
  });
});
