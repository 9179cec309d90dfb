import { describe, expect, it } from "vitest";
import { clipToWidth, padToWidth, textWidth } from "../../src/report/text-width.js";

describe("textWidth", () => {
  it.each([
    ["", 0],
    ["Ann", 3],
    ["Zoë", 3],
    ["Zoe\u0308", 3], // e + combining diaeresis
    ["Müller-Lüdenscheidt", 19],
    ["山田太郎", 8],
    ["김민준", 6],
    ["ｆｕｌｌ", 8], // fullwidth Latin
    ["やまだ", 6],
    ["Ana 😀", 6],
    ["👍🏽", 4], // thumbs up + skin tone modifier: two wide code points (terminals differ)
    ["a\u200bb", 2], // zero-width space
    ["❤\ufe0f", 1], // heart + variation selector-16: the base is narrow in UAX #11
    ["Ωμέγα", 5],
    ["שלום", 4],
  ])("%j takes %i columns", (s, w) => {
    expect(textWidth(s)).toBe(w);
  });
});

describe("clipToWidth", () => {
  it("leaves text that fits alone", () => {
    expect(clipToWidth("山田", 4)).toBe("山田");
    expect(clipToWidth("abc", 3)).toBe("abc");
  });
  it("cuts by columns and ends in …", () => {
    expect(clipToWidth("abcdef", 4)).toBe("abc…");
    expect(clipToWidth("山田太郎", 5)).toBe("山田…");
    expect(clipToWidth("山田太郎", 6)).toBe("山田…"); // a wide character never straddles the cut
    expect(textWidth(clipToWidth("山田太郎様", 7))).toBeLessThanOrEqual(7);
  });
  it("never splits a surrogate pair and keeps combining marks with their letter", () => {
    const clipped = clipToWidth("😀😀😀😀", 5);
    expect(clipped).toBe("😀😀…");
    expect(clipped).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(clipToWidth("Zoe\u0308 Smith", 4)).toBe("Zoe\u0308…");
  });
});

describe("padToWidth", () => {
  it("pads to columns, not code units", () => {
    expect(padToWidth("山田", 6)).toBe("山田  ");
    expect(padToWidth("Ann", 6)).toBe("Ann   ");
    expect(padToWidth("toolong", 3)).toBe("toolong");
  });
});
