/**
 * `splitName`: the forms people write whole names in, one case a row, and the properties every
 * split keeps (fast-check): it never throws, parts are trimmed with single spaces, no word is made
 * up or lost but titles, a plain "First Last" and "Last, First" give their parts back, and a
 * split's own parts written as one name split the same way again.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitName } from "../../src/plan/split-name.js";

describe("splitName: the forms people write", () => {
  it.each<[string, string, string, string]>([
    // what, cell, first, last
    ["first and last", "Ada Lovelace", "Ada", "Lovelace"],
    ["particles go with the last name", "Anne-Marie van der Berg", "Anne-Marie", "van der Berg"],
    ["particles in any case", "Robert De Niro", "Robert", "De Niro"],
    ["French particles", "Jean de la Fontaine", "Jean", "de la Fontaine"],
    ["Italian", "Leonardo da Vinci", "Leonardo", "da Vinci"],
    ["Portuguese", "Ana Maria do Nascimento", "Ana Maria", "do Nascimento"],
    ["Arabic", "Bashar al Assad", "Bashar", "al Assad"],
    ["a particle inside the given names stays there", "Juan de Dios de la Cruz", "Juan de Dios", "de la Cruz"],
    ["a given name that is a particle stays the given name", "Van Morrison", "Van", "Morrison"],
    ["last name, comma, first name", "García Márquez, Gabriel", "Gabriel", "García Márquez"],
    ["a comma without a space", "López,Ángel", "Ángel", "López"],
    ["a comma with middle names after it", "Lovelace, Ada Augusta", "Ada Augusta", "Lovelace"],
    ["particles before the comma", "van der Berg, Anne-Marie", "Anne-Marie", "van der Berg"],
    ["a title is dropped", "Dr. Jane Smith", "Jane", "Smith"],
    ["a title without its dot, in capitals", "MRS Jane Smith", "Jane", "Smith"],
    ["titles one after another", "Prof. Dr. Hans Müller", "Hans", "Müller"],
    ["a title after the comma", "Smith, Dr. Jane", "Jane", "Smith"],
    ["a title with one word left: that word is the first name", "Dr. Smith", "Smith", ""],
    ["a title alone is kept: it is all the cell says", "Dr.", "Dr.", ""],
    ["one word is a first name alone", "Madonna", "Madonna", ""],
    ["a suffix stays with the last name", "John Smith Jr.", "John", "Smith Jr."],
    ["suffixes after a comma are not the last-name-first form", "John Smith, Jr.", "John", "Smith Jr."],
    ["degrees after commas", "Jane Smith, MD, PhD", "Jane", "Smith MD PhD"],
    ["a suffix before the comma", "Smith Jr., John", "John", "Smith Jr."],
    ["a suffix after the first name", "Smith, John Jr.", "John", "Smith Jr."],
    ["a suffix after its own comma", "Smith, John, III", "John", "Smith III"],
    ["generations and middle names", "Martin Luther King Jr.", "Martin Luther", "King Jr."],
    ["a family name that is also a degree is a family name", "Jack Ma", "Jack", "Ma"],
    ["middle names go with the first name", "Mary Ann Smith", "Mary Ann", "Smith"],
    ["initials", "J. R. R. Tolkien", "J. R. R.", "Tolkien"],
    ["extra spaces, tabs and no-break spaces", "  Mary \t Ann\u00a0\u00a0Smith  ", "Mary Ann", "Smith"],
    ["all capitals are kept as written", "JOHN SMITH", "JOHN", "SMITH"],
    ["lower case is kept as written", "john smith", "john", "smith"],
    ["Cyrillic", "Владимир Набоков", "Владимир", "Набоков"],
    ["Greek", "Μαρία Κάλλας", "Μαρία", "Κάλλας"],
    ["a Japanese name written family name first keeps its order", "山田 太郎", "山田", "太郎"],
    ["an ideographic space", "山田\u3000太郎", "山田", "太郎"],
    ["a CJK name without a space is one word", "山田太郎", "山田太郎", ""],
    ["a Korean name", "김 민준", "김", "민준"],
    ["Arabic script", "محمد علي", "محمد", "علي"],
    ["a quoted nickname stays with the first name", 'Robert "Bob" Jones', 'Robert "Bob"', "Jones"],
    ["a blank cell", "", "", ""],
    ["spaces only", " \t ", "", ""],
    ["commas only", " , ,", "", ""],
    ["a trailing comma", "Smith,", "Smith", ""],
    ["a leading comma", ", John", "John", ""],
  ])("%s: %j → %j / %j", (_what, cell, first, last) => {
    expect(splitName(cell)).toEqual({ first, last });
  });
});

/** A plain word: letters of several scripts, never a title, suffix or particle. */
const word = fc
  .tuple(fc.constantFrom("A", "Z", "É", "Ж", "山", "Ω", "K"), fc.string({ unit: fc.constantFrom("a", "n", "é", "ß", "-", "'", "ж", "太"), minLength: 1, maxLength: 8 }))
  .map(([a, b]) => a + b);
const words = (min: number, max: number) => fc.array(word, { minLength: min, maxLength: max });

/** Anything a cell might hold, and the words with a meaning for the splitter among them. */
const SPECIAL = ["Dr.", "mrs", "Prof", "van", "De", "la", "al", "Jr.", "III", "PhD", "Sr", ",", ", ", " , "];
const SPACE = fc.constantFrom(" ", "  ", "\t", "\u00a0", "\u3000", "\n");
const cell = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.array(fc.oneof(word, fc.constantFrom(...SPECIAL), SPACE), { maxLength: 8 }).map((parts) => parts.join(" ")),
);

describe("splitName: what every split keeps", () => {
  it("never throws; parts are trimmed, one space between words; first is blank only for a cell of spaces and commas", () => {
    fc.assert(
      fc.property(cell, (text) => {
        const { first, last } = splitName(text);
        for (const part of [first, last]) {
          expect(part).toBe(part.trim());
          expect(part).not.toMatch(/\s\s|[^\S ]/);
          expect(part).not.toContain(",");
        }
        expect(first === "").toBe(/^[\s,]*$/.test(text));
        if (first === "") expect(last).toBe("");
      }),
      { numRuns: 5_000 },
    );
  });

  it("makes up no word and loses none but titles in front", () => {
    const TITLE = /^(mrs|dr\.|prof|sr)$/i;
    fc.assert(
      fc.property(cell, (text) => {
        const { first, last } = splitName(text);
        const given = text.split(/[\s,]+/).filter((w) => w !== "");
        const out = [first, last].join(" ").split(" ").filter((w) => w !== "");
        const left = [...given];
        for (const w of out) {
          const i = left.indexOf(w);
          expect(i, `'${w}' is not a word of ${JSON.stringify(text)}`).toBeGreaterThanOrEqual(0);
          left.splice(i, 1);
        }
        for (const w of left) expect(w).toMatch(TITLE);
      }),
      { numRuns: 5_000 },
    );
  });

  it("a plain given-name-first name gives its words back: all but the last as first name", () => {
    fc.assert(
      fc.property(words(2, 5), (ws) => {
        expect(splitName(ws.join(" "))).toEqual({ first: ws.slice(0, -1).join(" "), last: ws.at(-1) });
      }),
    );
  });

  it('"Last, First" gives the same parts as "First Last" wherever the last name is one plain word', () => {
    fc.assert(
      fc.property(words(1, 3), word, (given, family) => {
        const parts = { first: given.join(" "), last: family };
        expect(splitName(`${family}, ${given.join(" ")}`)).toEqual(parts);
        expect(splitName(`${given.join(" ")} ${family}`)).toEqual(parts);
      }),
    );
  });

  it("a family name of several words survives the comma form whole", () => {
    fc.assert(
      fc.property(words(1, 3), words(1, 3), (given, family) => {
        expect(splitName(`${family.join(" ")},${given.join(" ")}`)).toEqual({ first: given.join(" "), last: family.join(" ") });
      }),
    );
  });

  it("first + ' ' + last split again gives the same parts, for a name written without a comma", () => {
    const noComma = cell.map((t) => t.replaceAll(",", " "));
    fc.assert(
      fc.property(noComma, (text) => {
        const once = splitName(text);
        expect(splitName(`${once.first} ${once.last}`)).toEqual(once);
      }),
      { numRuns: 5_000 },
    );
  });
});
