import { describe, expect, it } from "vitest";
import type { ContactFields, ItemIds } from "../../src/model.js";
import { fieldsOf, itemIdsOf, ownedItems, type Managed, type QuoContactLike } from "../../src/plan/from-quo.js";
import { buildContactUpdate, isWritableSource, type ContactUpdate } from "../../src/plan/patch.js";

const MANAGED: Managed = {
  scalars: new Set(["lastName"]),
  phoneLabels: new Set(["mobile", "work"]),
  emailLabels: new Set(["work"]),
  customKeys: new Set(["lead-source"]),
  defaultCountry: "US",
};
const EXT = "leads:42";
const NO_IDS: ItemIds = { phoneNumbers: {}, emails: {} };

/** A contact as Quo holds it: the sync's items plus what a person added in the app. */
function held(over: Partial<QuoContactLike["defaultFields"]> = {}, custom: QuoContactLike["customFields"] = []): QuoContactLike {
  return {
    id: "CT1",
    externalId: EXT,
    source: "quo-sync",
    defaultFields: {
      firstName: "Ann",
      lastName: "Lee",
      company: "Acme (set in the app)",
      role: null,
      phoneNumbers: [
        { id: "PH1", name: "mobile", value: "+14155550100" },
        { id: "PH9", name: "home", value: "+14155550999" },
      ],
      emails: [
        { id: "EM1", name: "work", value: "ann@acme.io" },
        { id: "EM9", name: "personal", value: "ann@home.io" },
      ],
      ...over,
    },
    customFields: custom,
  };
}

function desired(over: Partial<ContactFields> = {}): ContactFields {
  return {
    firstName: "Ann",
    lastName: "Lee",
    phoneNumbers: [{ name: "mobile", value: "+14155550100" }],
    emails: [{ name: "work", value: "ann@acme.io" }],
    customFields: {},
    ...over,
  };
}

/** `buildContactUpdate` where a safe update is expected: fails the test on a refusal. */
function safeUpdate(...args: Parameters<typeof buildContactUpdate>): ContactUpdate {
  const u = buildContactUpdate(...args);
  if (!u.ok) throw new Error(`refused: ${u.reason}`);
  return u;
}

const KNOWN: ItemIds = { phoneNumbers: { mobile: "PH1" }, emails: { work: "EM1" } };

describe("buildContactUpdate", () => {
  it("sends every scalar, every item with its id and every custom value, changing only what the sync maps", () => {
    const u = safeUpdate(
      held({}, [
        { key: "lead-source", value: "Fair" },
        { key: "vip", value: true },
      ]),
      desired({ lastName: "Stone", customFields: { "lead-source": "Web" } }),
      MANAGED,
      KNOWN,
      EXT,
    );
    expect(u.empty).toBe(false);
    expect(u.idempotent).toBe(true);
    expect(u.body).toEqual({
      defaultFields: {
        firstName: "Ann",
        lastName: "Stone",
        company: "Acme (set in the app)",
        role: null,
        phoneNumbers: [
          { id: "PH1", name: "mobile", value: "+14155550100" },
          { id: "PH9", name: "home", value: "+14155550999" },
        ],
        emails: [
          { id: "EM1", name: "work", value: "ann@acme.io" },
          { id: "EM9", name: "personal", value: "ann@home.io" },
        ],
      },
      customFields: [
        { key: "vip", value: true },
        { key: "lead-source", value: "Web" },
      ],
      externalId: EXT,
      source: "quo-sync",
    });
    expect(u.owned).toEqual(KNOWN);
  });

  it.each([
    {
      name: "a blanked mapped scalar is cleared with null; unmapped ones stay as held",
      current: held(),
      want: desired({ lastName: undefined }),
      check: (b: ContactUpdate["body"]) => {
        expect(b.defaultFields?.lastName).toBeNull();
        expect(b.defaultFields?.company).toBe("Acme (set in the app)");
      },
    },
    {
      name: "a blanked email is removed by id with value null; the person's other email stays",
      current: held(),
      want: desired({ emails: [] }),
      check: (b: ContactUpdate["body"]) =>
        expect(b.defaultFields?.emails).toEqual([
          { id: "EM1", name: "work", value: null },
          { id: "EM9", name: "personal", value: "ann@home.io" },
        ]),
    },
    {
      name: "a changed phone keeps its id",
      current: held(),
      want: desired({ phoneNumbers: [{ name: "mobile", value: "+14155550111" }] }),
      check: (b: ContactUpdate["body"]) =>
        expect(b.defaultFields?.phoneNumbers).toEqual([
          { id: "PH1", name: "mobile", value: "+14155550111" },
          { id: "PH9", name: "home", value: "+14155550999" },
        ]),
    },
    {
      name: "a blanked mapped custom value Quo holds is cleared with null",
      current: held({}, [{ key: "lead-source", value: "Fair" }]),
      want: desired(),
      check: (b: ContactUpdate["body"]) => expect(b.customFields).toEqual([{ key: "lead-source", value: null }]),
    },
  ])("$name", ({ current, want, check }) => {
    const u = safeUpdate(current, want, MANAGED, KNOWN, EXT);
    expect(u.empty).toBe(false);
    expect(u.idempotent).toBe(true);
    check(u.body);
  });

  it("adds a label the contact lacks without an id, which makes the body non-idempotent", () => {
    const u = safeUpdate(held(), desired({ phoneNumbers: [{ name: "mobile", value: "+14155550100" }, { name: "work", value: "+12125550199" }] }), MANAGED, KNOWN, EXT);
    expect(u.idempotent).toBe(false);
    expect(u.body.defaultFields?.phoneNumbers).toEqual([
      { id: "PH1", name: "mobile", value: "+14155550100" },
      { id: "PH9", name: "home", value: "+14155550999" },
      { name: "work", value: "+12125550199" },
    ]);
    expect(u.owned.phoneNumbers).toEqual({ mobile: "PH1" });
  });

  it("is empty when Quo already holds the merged contact, whatever else a person added", () => {
    expect(safeUpdate(held({}, [{ key: "vip", value: true }]), desired(), MANAGED, KNOWN, EXT).empty).toBe(true);
  });

  it("is not empty when the contact lost its externalId", () => {
    const u = safeUpdate({ ...held(), externalId: null }, desired(), MANAGED, KNOWN, EXT);
    expect(u.empty).toBe(false);
    expect(u.body.externalId).toBe(EXT);
  });

  it("two items under the sync's label: the one the sync owns is changed, the other left alone", () => {
    const current = held({
      phoneNumbers: [
        { id: "PH7", name: "mobile", value: "+14155550777" },
        { id: "PH1", name: "mobile", value: "+14155550100" },
      ],
    });
    const u = safeUpdate(current, desired({ phoneNumbers: [{ name: "mobile", value: "+14155550123" }] }), MANAGED, KNOWN, EXT);
    expect(u.body.defaultFields?.phoneNumbers).toEqual([
      { id: "PH7", name: "mobile", value: "+14155550777" },
      { id: "PH1", name: "mobile", value: "+14155550123" },
    ]);
  });

  it("when the remembered id is gone, the item under the label becomes the sync's instead of a second one", () => {
    const current = held({ phoneNumbers: [{ id: "PH5", name: "mobile", value: "+14155550100" }] });
    const u = safeUpdate(current, desired({ lastName: "Stone" }), MANAGED, KNOWN, EXT);
    expect(u.idempotent).toBe(true);
    expect(u.body.defaultFields?.phoneNumbers).toEqual([{ id: "PH5", name: "mobile", value: "+14155550100" }]);
    expect(u.owned.phoneNumbers).toEqual({ mobile: "PH5" });
  });

  it("a relabelled item the sync owns gets the sync's label back", () => {
    const current = held({ phoneNumbers: [{ id: "PH1", name: "cell", value: "+14155550100" }] });
    const u = safeUpdate(current, desired(), MANAGED, KNOWN, EXT);
    expect(u.empty).toBe(false);
    expect(u.body.defaultFields?.phoneNumbers).toEqual([{ id: "PH1", name: "mobile", value: "+14155550100" }]);
  });

  it("sends source and sourceUrl back only when Quo accepts them in a write", () => {
    expect(safeUpdate({ ...held(), source: "openphone" }, desired(), MANAGED, KNOWN, EXT).body.source).toBeUndefined();
    const u = safeUpdate({ ...held(), source: "my-crm", sourceUrl: "https://crm.example/42" }, desired(), MANAGED, KNOWN, EXT);
    expect(u.body.source).toBe("my-crm");
    expect(u.body.sourceUrl).toBe("https://crm.example/42");
  });

  it("sends a custom value Quo returned without a key back by its id", () => {
    const u = safeUpdate(held({}, [{ id: "CF9", value: "x" }]), desired(), MANAGED, KNOWN, EXT);
    expect(u.body.customFields).toEqual([{ id: "CF9", value: "x" }]);
  });
});

describe("ownedItems / fieldsOf / itemIdsOf", () => {
  it("reads the sync's own item by id, ignores unmapped scalars, labels and custom keys", () => {
    const c = held(
      {
        phoneNumbers: [
          { id: "PH7", name: "mobile", value: "+14155550777" },
          { id: "PH1", name: "mobile", value: "+14155550100" },
        ],
      },
      [
        { key: "lead-source", value: "Fair" },
        { key: "vip", value: true },
      ],
    );
    expect(fieldsOf(c, MANAGED, KNOWN)).toEqual({
      firstName: "Ann",
      lastName: "Lee",
      phoneNumbers: [{ name: "mobile", value: "+14155550100" }],
      emails: [{ name: "work", value: "ann@acme.io" }],
      customFields: { "lead-source": "Fair" },
    });
    expect(itemIdsOf(c, MANAGED, KNOWN)).toEqual(KNOWN);
    // Without remembered ids the first item under the label is taken.
    expect(itemIdsOf(c, MANAGED)).toEqual({ phoneNumbers: { mobile: "PH7" }, emails: { work: "EM1" } });
    expect(itemIdsOf(c, MANAGED, NO_IDS).phoneNumbers.mobile).toBe("PH7");
  });

  it("one item is never owned by two labels", () => {
    const owned = ownedItems([{ id: "A", name: "work", value: "+14155550100" }], "phoneNumbers", MANAGED, { mobile: "A" });
    expect([...owned.keys()]).toEqual(["mobile"]);
  });
});

describe("buildContactUpdate on copies that are not what a write may be built from", () => {
  it.each([
    { omit: "phoneNumbers" as const, named: "phoneNumbers" },
    { omit: "emails" as const, named: "emails" },
  ])("refuses a copy without its $omit list (absent is not empty)", ({ omit, named }) => {
    const current = held();
    delete current.defaultFields[omit];
    const u = buildContactUpdate(current, desired({ lastName: "Stone" }), MANAGED, KNOWN, EXT);
    expect(u.ok).toBe(false);
    expect(!u.ok && u.reason).toContain(named);
    expect(!u.ok && u.reason).toContain("CT1");
  });

  it("refuses a copy without its customFields list, even when nothing else would change", () => {
    const { customFields: _omitted, ...current } = held();
    const u = buildContactUpdate(current, desired(), MANAGED, KNOWN, EXT);
    expect(u).toEqual({ ok: false, reason: expect.stringContaining("customFields") });
  });

  it("sends a number a person typed in the app back in E.164, and sees no change in the sync's own number typed another way", () => {
    const current = held({
      phoneNumbers: [
        { id: "PH1", name: "mobile", value: "(415) 555-0100" },
        { id: "PH9", name: "home", value: "(617) 555-0145" },
      ],
    });
    expect(safeUpdate(current, desired(), MANAGED, KNOWN, EXT).empty).toBe(true);
    const u = safeUpdate(current, desired({ lastName: "Stone" }), MANAGED, KNOWN, EXT);
    expect(u.body.defaultFields?.phoneNumbers).toEqual([
      { id: "PH1", name: "mobile", value: "+14155550100" },
      { id: "PH9", name: "home", value: "+16175550145" },
    ]);
    expect(u.idempotent).toBe(true);
  });

  it("refuses, naming the number, a write that would carry a held number that does not parse", () => {
    const current = held({
      phoneNumbers: [
        { id: "PH1", name: "mobile", value: "+14155550100" },
        { id: "PH9", name: "home", value: "555-01" },
      ],
    });
    // Nothing to write: nothing refused.
    expect(safeUpdate(current, desired(), MANAGED, KNOWN, EXT).empty).toBe(true);
    const u = buildContactUpdate(current, desired({ lastName: "Stone" }), MANAGED, KNOWN, EXT);
    expect(u.ok).toBe(false);
    expect(!u.ok && u.reason).toContain("'555-01' (label 'home')");
  });

  it("a link claims the item holding its number whatever form it was typed in, instead of adding it twice", () => {
    const current = held({ phoneNumbers: [{ id: "PH5", name: "main", value: "415.555.0104" }] });
    const u = safeUpdate(current, desired({ phoneNumbers: [{ name: "mobile", value: "+14155550104" }] }), MANAGED, NO_IDS, EXT, { claimByValue: true });
    expect(u.body.defaultFields?.phoneNumbers).toEqual([{ id: "PH5", name: "mobile", value: "+14155550104" }]);
    expect(u.owned.phoneNumbers).toEqual({ mobile: "PH5" });
    expect(u.idempotent).toBe(true);
  });

  it("reads the sync's fields in E.164 whatever form Quo holds them in", () => {
    const current = held({ phoneNumbers: [{ id: "PH1", name: "mobile", value: "(415) 555-0100" }] });
    expect(fieldsOf(current, MANAGED, KNOWN).phoneNumbers).toEqual([{ name: "mobile", value: "+14155550100" }]);
  });
});

describe("isWritableSource", () => {
  it.each([
    ["quo-sync", true],
    ["hubspot", true],
    ["openphone", false],
    ["OpenPhone-import", false],
    ["csv", false],
    ["csv-upload", false],
    ["google-people", false],
    ["", false],
    [null, false],
  ] as const)("%s → %s", (source, ok) => expect(isWritableSource(source)).toBe(ok));
});
