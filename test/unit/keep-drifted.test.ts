import { describe, expect, it } from "vitest";
import type { ContactFields } from "../../src/model.js";
import { keepDrifted } from "../../src/plan/keep-drifted.js";

function fields(over: Partial<ContactFields> = {}): ContactFields {
  return {
    firstName: "Ann",
    lastName: "Lee",
    company: "Acme",
    phoneNumbers: [{ name: "mobile", value: "+14155550100" }],
    emails: [{ name: "work", value: "ann@acme.io" }],
    customFields: { stage: "Lead" },
    ...over,
  };
}

describe("keepDrifted", () => {
  it("with overwrite, sends the source's values whatever Quo holds", () => {
    const desired = fields({ lastName: "Stone" });
    expect(keepDrifted(fields(), desired, fields({ company: "Set in app" }), "overwrite")).toEqual({ send: desired, kept: {} });
  });

  it.each([
    {
      name: "a scalar a person changed is kept; the source's other change goes through",
      held: fields({ company: "Set in app" }),
      desired: fields({ company: "Acme Corp", lastName: "Stone" }),
      send: fields({ company: "Set in app", lastName: "Stone" }),
      kept: { company: { from: "Acme Corp", to: "Set in app" } },
    },
    {
      name: "a scalar a person cleared stays cleared",
      held: fields({ company: undefined }),
      desired: fields(),
      send: fields({ company: undefined }),
      kept: { company: { from: "Acme", to: null } },
    },
    {
      name: "a phone a person changed is kept under the sync's label",
      held: fields({ phoneNumbers: [{ name: "mobile", value: "+14155550999" }] }),
      desired: fields({ phoneNumbers: [{ name: "mobile", value: "+14155550111" }] }),
      send: fields({ phoneNumbers: [{ name: "mobile", value: "+14155550999" }] }),
      kept: { "phoneNumbers.mobile": { from: "+14155550111", to: "+14155550999" } },
    },
    {
      name: "an email a person removed stays removed",
      held: fields({ emails: [] }),
      desired: fields(),
      send: fields({ emails: [] }),
      kept: { "emails.work": { from: "ann@acme.io", to: null } },
    },
    {
      name: "a custom value a person changed is kept",
      held: fields({ customFields: { stage: "Customer" } }),
      desired: fields({ customFields: { stage: "Lead" } }),
      send: fields({ customFields: { stage: "Customer" } }),
      kept: { "customFields.stage": { from: "Lead", to: "Customer" } },
    },
    {
      name: "a drifted field the source would set to the same value is sent as held and not listed",
      held: fields({ company: "Acme Corp" }),
      desired: fields({ company: "Acme Corp" }),
      send: fields({ company: "Acme Corp" }),
      kept: {},
    },
    {
      name: "nothing drifted: the source's values, nothing kept",
      held: fields(),
      desired: fields({ lastName: "Stone" }),
      send: fields({ lastName: "Stone" }),
      kept: {},
    },
  ])("with skip: $name", ({ held, desired, send, kept }) => {
    const r = keepDrifted(fields(), desired, held, "skip");
    expect(r.send).toEqual(send);
    expect(r.kept).toEqual(kept);
  });
});
