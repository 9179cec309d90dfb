/**
 * A sync's `where`: the conditions a source row must meet to be in the sync (README, "Filtering
 * rows"). The zod schema and what it decides; src/plan/where.ts evaluates it.
 *
 * - One operator per condition object, so a condition reads as one sentence; two conditions on one
 *   column are two entries. The one pair allowed is a range: a lower bound (`gt` or `gte`) with an
 *   upper bound (`lt` or `lte`), both numbers or both dates.
 * - `equals`, `in`, `notIn` and `matches` ignore case unless `"caseSensitive": true`; every
 *   operator reads the trimmed cell, and a missing column reads as blank.
 * - `matches` is a JavaScript regular expression with the `u` flag, unanchored (use `^…$` for a
 *   whole cell); it is compiled here, so a bad pattern stops the config from loading.
 */
import { z } from "zod";
import { DATE_BOUND_FORMAT, parseDateBound, type DateBound } from "./plan/read-cell.js";

/** The operators of a column condition, in the order messages list them. */
export const WHERE_OPERATORS = ["equals", "in", "notIn", "notBlank", "matches", "gt", "gte", "lt", "lte"] as const;
/** The operators that compare text, and so take `caseSensitive`. */
export const TEXT_OPERATORS = ["equals", "in", "notIn", "matches"] as const;
/**
 * The longest `matches` pattern. A filter's pattern is a short test of one cell; a longer one is
 * more likely pasted by mistake, and is harder to review for patterns that backtrack badly.
 */
export const MAX_PATTERN_LENGTH = 500;

export type WhereOperator = (typeof WHERE_OPERATORS)[number];

const LOWER = ["gt", "gte"] as const;
const UPPER = ["lt", "lte"] as const;

const textValue = z
  .union([z.string(), z.number()], { error: 'a text to compare the cell with (a number is compared as its text; write true as "true")' })
  .meta({ examples: ["Customer", 42] });

const textList = (which: "one" | "none") =>
  z
    .array(textValue)
    .min(1, "list at least one value")
    .describe(`the cell, trimmed and ignoring case (unless caseSensitive), is ${which} of these${which === "none" ? " (a blank cell is none of them unless the list holds \"\")" : ""}`)
    .meta({ examples: [["Customer", "Lead"]] });

/** A `gt`/`gte`/`lt`/`lte` value: a number, or a date as `DATE_BOUND_FORMAT` says. */
const bound = (sign: string) =>
  z
    .union([
      z.number(),
      z.string().superRefine((text, ctx) => {
        if (parseDateBound(text) !== undefined) return;
        const asNumber = text.trim() !== "" && Number.isFinite(Number(text));
        const noOffset = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
        ctx.addIssue({
          code: "custom",
          message: asNumber
            ? `give a number without quotes (${Number(text)}); text is read as a date`
            : noOffset
              ? `'${text}' has no offset, so no one instant: add Z (UTC) or the offset, e.g. ${text.replace(" ", "T")}-05:00; or give the date alone`
              : `'${text}' is not a date: give ${DATE_BOUND_FORMAT}`,
        });
      }),
    ], { error: "a number, or a date as YYYY-MM-DD (or a date-time with its offset)" })
    .describe(
      `the cell, read as a number or a date (whichever this value is), is ${sign} this; a blank cell or one that is not of that kind fails. A date alone compares the calendar date the cell shows; a date-time (with its offset) compares instants`,
    )
    .meta({ examples: [50, "2026-01-31", "2026-01-31T09:00:00-05:00"] });

/** A condition as the config gives it: on a column (`column` and one operator, or a range), or `any`. */
export interface WhereCondition {
  column?: string;
  caseSensitive?: boolean;
  equals?: string | number;
  in?: (string | number)[];
  notIn?: (string | number)[];
  notBlank?: true;
  matches?: string;
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  any?: WhereCondition[];
}

const conditionShape = {
  column: z.string().trim().min(1, "a column name must not be empty").optional().describe("the source column (or HubSpot property) this condition reads").meta({ examples: ["Status"] }),
  caseSensitive: z
    .boolean()
    .optional()
    .describe("true: equals, in, notIn and matches tell upper from lower case (by default they do not)")
    .meta({ examples: [true] }),
  equals: textValue.optional().describe('the cell, trimmed and ignoring case (unless caseSensitive), is this text; "" for a blank cell').meta({ examples: ["Customer", ""] }),
  in: textList("one").optional(),
  notIn: textList("none").optional(),
  notBlank: z
    .literal(true, { error: 'notBlank takes only true; for rows whose cell is blank, use equals: ""' })
    .optional()
    .describe("true: the cell holds something besides spaces")
    .meta({ examples: [true] }),
  matches: z
    .string()
    .min(1, "an empty pattern matches every row; leave the condition out")
    .max(MAX_PATTERN_LENGTH, `a pattern of at most ${MAX_PATTERN_LENGTH} characters: a filter tests one cell; split a longer one into conditions, or an 'any'`)
    .superRefine((pattern, ctx) => {
      try {
        new RegExp(pattern, "u");
      } catch (e) {
        ctx.addIssue({ code: "custom", message: `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}` });
      }
    })
    .optional()
    .describe("a JavaScript regular expression (u flag; ignoring case unless caseSensitive) found anywhere in the trimmed cell; anchor it with ^ and $ to test the whole cell")
    .meta({ examples: ["@acme\\.com$", "^(VIP|Gold)\\b"] }),
  gt: bound(">").optional(),
  gte: bound("≥").optional(),
  lt: bound("<").optional(),
  lte: bound("≤").optional(),
};

const conditionObject = z.strictObject({
  ...conditionShape,
  get any(): z.ZodOptional<z.ZodArray<z.ZodType<WhereCondition>>> {
    return z
      .array(conditionSchema)
      .min(1, "list at least one condition (an empty 'any' is met by no row)")
      .optional()
      .describe("met when one of these conditions is (each a condition on a column, or a further any)")
      .meta({ examples: [[{ column: "Score", gte: 50 }, { column: "Owner", equals: "Ann" }]] });
  },
});

/**
 * One condition: `{ "column": …, <one operator> }`, a range `{ "column": …, "gte": …, "lt": … }`,
 * or `{ "any": [ … ] }`. Each problem is an issue on its own path.
 */
export const conditionSchema: z.ZodType<WhereCondition> = conditionObject
  // Only on an otherwise valid object: beside an unknown key (a misspelt operator), "give one of" would say it twice.
  .superRefine((c, ctx) => {
    const ops = WHERE_OPERATORS.filter((k) => c[k] !== undefined);
    if (c.any !== undefined) {
      const others = [...(c.column === undefined ? [] : ["column"]), ...(c.caseSensitive === undefined ? [] : ["caseSensitive"]), ...ops];
      if (others.length) ctx.addIssue({ code: "custom", message: `an 'any' stands alone (found also ${listOf(others)}); put the other condition beside the 'any' in the list, or inside it` });
      return;
    }
    if (c.column === undefined) {
      if (ops.length === 0) ctx.addIssue({ code: "custom", message: `give a 'column' and one of ${WHERE_OPERATORS.join(", ")}; or 'any' with a list of conditions` });
      else ctx.addIssue({ code: "custom", path: ["column"], message: "required: the column this condition reads" });
      return;
    }
    if (ops.length === 0) {
      ctx.addIssue({ code: "custom", message: `give one of ${WHERE_OPERATORS.join(", ")} for column '${c.column}'` });
      return;
    }
    if (ops.length > 1) {
      const comparisons = ops.every((k) => (LOWER as readonly string[]).includes(k) || (UPPER as readonly string[]).includes(k));
      const isRange = ops.length === 2 && LOWER.some((k) => ops.includes(k)) && UPPER.some((k) => ops.includes(k));
      if (!comparisons) ctx.addIssue({ code: "custom", message: `give one of ${WHERE_OPERATORS.join(", ")} per condition (found ${listOf(ops)}); list two conditions for both` });
      else if (!isRange) ctx.addIssue({ code: "custom", message: `a range gives one lower bound (gt or gte) and one upper bound (lt or lte) (found ${listOf(ops)}); list two conditions for both` });
      else rangeIssue(c, ctx);
    }
    const textOps = ops.filter((k) => (TEXT_OPERATORS as readonly string[]).includes(k));
    if (c.caseSensitive !== undefined && textOps.length === 0) {
      const why = ops.includes("notBlank") ? "notBlank only tells a blank cell from the rest" : `${ops.join(" and ")} compares numbers or dates, which have no case`;
      ctx.addIssue({ code: "custom", path: ["caseSensitive"], message: `caseSensitive is for equals, in, notIn and matches; ${why}` });
    }
  }, { when: (payload) => payload.issues.length === 0 })
  .describe(
    'a condition a row must meet: { "column": …, and one of equals, in, notIn, notBlank (true), matches (a regular expression), gt, gte, lt, lte (numbers or dates) } — or a range, one of gt/gte with one of lt/lte — or { "any": [conditions] }, met when one of them is',
  )
  .meta({
    id: "whereCondition",
    examples: [
      { column: "Status", in: ["Customer", "Lead"] },
      { column: "Phone", notBlank: true },
      { column: "Created", gte: "2026-01-01", lt: "2026-02-01" },
      { any: [{ column: "Score", gte: 50 }, { column: "Owner", equals: "Ann" }] },
    ],
  });

/**
 * A sync's `where`: rows that fail any condition are out of the sync, as if absent from the
 * source; `any` requires one of its conditions, and nests.
 */
export const whereSchema = z
  .array(conditionSchema)
  .describe("conditions every row of the sync must meet (all of them); a row failing one is left out, as if absent from the source, and reported as filtered")
  .meta({
    examples: [
      [
        { column: "Status", in: ["Customer", "Lead"] },
        { column: "Phone", notBlank: true },
        { any: [{ column: "Score", gte: 50 }, { column: "Owner", equals: "Ann" }] },
      ],
    ],
  });

/** A validated `where`. */
export type WhereConfig = WhereCondition[];

/** Says when a range's bounds differ in kind or leave no value between them. */
function rangeIssue(c: WhereCondition, ctx: z.core.$RefinementCtx<WhereCondition>): void {
  const lowKey = c.gt !== undefined ? "gt" : "gte";
  const highKey = c.lt !== undefined ? "lt" : "lte";
  const [low, high] = [c[lowKey], c[highKey]];
  if (typeof low !== typeof high) {
    ctx.addIssue({ code: "custom", message: `a range's bounds are both numbers or both dates (found ${lowKey} ${JSON.stringify(low)} and ${highKey} ${JSON.stringify(high)})` });
    return;
  }
  const [a, b] = typeof low === "number" ? [low, high as number] : [boundPoint(parseDateBound(low as string)), boundPoint(parseDateBound(high as string))];
  if (a === undefined || b === undefined) return;
  const strict = lowKey === "gt" || highKey === "lt";
  if (a > b || (strict && a === b)) ctx.addIssue({ code: "custom", message: `no value is ${lowKey === "gt" ? ">" : "≥"} ${String(low)} and ${highKey === "lt" ? "<" : "≤"} ${String(high)}; did you swap the bounds?` });
}

/** A date bound as a point comparable with another of the same kind (a day's midnight in UTC). */
function boundPoint(b: DateBound | undefined): number | undefined {
  if (b === undefined) return undefined;
  return b.kind === "day" ? b.day * 86_400_000 : b.ms;
}

/** `a`, `a and b`, `a, b and c`. */
function listOf(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1] as string}`;
}
