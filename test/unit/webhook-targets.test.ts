/**
 * `targetsOf`: the contact ids HubSpot events name, as a targeted run reads them. Every event's
 * object is read (a deletion reads as not found, whatever order events came in); a merge reads the
 * kept contact and counts the others gone; an event without a usable id makes the run ordinary.
 */
import { describe, expect, it } from "vitest";
import { targetsOf } from "../../src/triggers/webhook-routes.js";

const ev = (subscriptionType: string, objectId: unknown, extra: Record<string, unknown> = {}) => ({ subscriptionType, objectId, ...extra });

describe("targetsOf", () => {
  it("reads the object of creation, change, deletion, privacy deletion and restore, once each", () => {
    const t = targetsOf([ev("contact.creation", 1), ev("contact.propertyChange", 2), ev("contact.propertyChange", 2), ev("contact.deletion", 3), ev("contact.privacyDeletion", "4"), ev("contact.restore", 5)]);
    expect(t).toEqual({ ids: ["1", "2", "3", "4", "5"] });
  });

  it("a merge reads newObjectId and counts the other merged ids gone, even when an earlier event named them", () => {
    const t = targetsOf([ev("contact.propertyChange", 7), ev("contact.merge", 8, { mergedObjectIds: [7, 8], newObjectId: 8 })]);
    expect(t).toEqual({ ids: ["8"], gone: ["7"] });
  });

  it("an event without a usable id (absent, not a positive whole number) makes it an ordinary run", () => {
    expect(targetsOf([ev("contact.creation", 1), ev("contact.propertyChange", undefined)])).toBeUndefined();
    expect(targetsOf([ev("contact.propertyChange", "12; DROP")])).toBeUndefined();
    expect(targetsOf([ev("contact.merge", 8, { mergedObjectIds: ["x"], newObjectId: 8 })])).toBeUndefined();
  });
});
