/**
 * Contacts already in Quo (`match`): a row that would be created is first matched against the
 * workspace's contacts, by its E.164 phone numbers and then by its case-folded emails, so a first
 * run links to what people already saved instead of creating twins. Pure: the workspace arrives as
 * an index built before planning (`src/execute/workspace-index.ts`).
 */
import type { ContactFields } from "../model.js";
import { isWritableSource } from "./patch.js";

/** What matching needs to know of a workspace contact. */
export interface WorkspaceContact {
  id: string;
  externalId: string | null;
  source: string | null;
}

/**
 * The workspace's contacts by E.164 phone and by case-folded email — only for the values the
 * creates of the plan carry, so its size follows the run, not the workspace.
 */
export interface WorkspaceIndex {
  byPhone: ReadonlyMap<string, readonly WorkspaceContact[]>;
  byEmail: ReadonlyMap<string, readonly WorkspaceContact[]>;
}

export type MatchKey = "phone" | "email";

/** The sync's `match` setting. */
export interface MatchConfig {
  by: readonly MatchKey[];
  /** Sources besides Quo's own (and none) whose contacts may be taken over. */
  sources: readonly string[];
}

/** How a row was matched, for reports. */
export interface MatchedBy {
  by: MatchKey;
  value: string;
}

export type MatchVerdict =
  | { kind: "none" }
  | { kind: "link"; contact: WorkspaceContact; matched: MatchedBy }
  | { kind: "reject"; matched: MatchedBy; reason: string };

/** The case-folded form emails are matched by. */
export function foldEmail(email: string): string {
  return email.trim().toLowerCase();
}

function describe(c: WorkspaceContact): string {
  return `${c.id} (source ${c.source === null ? "none: made in the Quo app" : `'${c.source}'`}${c.externalId ? `, externalId '${c.externalId}'` : ""})`;
}

/**
 * Whether a contact may be taken over by a sync: it carries no externalId (of another sync or
 * tool), and it was made in the Quo app (no source), by one of Quo's own origins (its CSV import,
 * a device), or by a source the sync lists in `match.sources`. Contacts of Quo's native
 * integrations are read-only in Quo and are never taken over unless listed.
 */
export function mayTakeOver(c: WorkspaceContact, match: MatchConfig): boolean {
  if (c.externalId) return false;
  return c.source === null || !isWritableSource(c.source) || match.sources.includes(c.source);
}

/**
 * The verdict for one row that would be created. The first of `match.by` that finds any contact
 * decides: exactly one contact that may be taken over → link; several, or one that may not be
 * taken over, or one this sync already manages for another key (`managed`: Quo id → key) →
 * reject, naming the contacts; none → create. A contact that already carries this row's own
 * externalId is no match: the executor adopts it as the row's contact.
 */
export function matchRow(fields: ContactFields, ownExternalId: string, match: MatchConfig, index: WorkspaceIndex, managed: ReadonlyMap<string, string>): MatchVerdict {
  for (const by of match.by) {
    const values = by === "phone" ? fields.phoneNumbers.map((p) => p.value) : fields.emails.map((e) => foldEmail(e.value));
    const map = by === "phone" ? index.byPhone : index.byEmail;
    const found = new Map<string, { contact: WorkspaceContact; value: string }>();
    for (const value of values) for (const contact of map.get(value) ?? []) if (!found.has(contact.id)) found.set(contact.id, { contact, value });
    if ([...found.values()].some((f) => f.contact.externalId === ownExternalId)) return { kind: "none" };
    if (found.size === 0) continue;
    const list = [...found.values()];
    const matched = { by, value: (list[0] as { value: string }).value };
    if (list.length > 1) {
      return { kind: "reject", matched, reason: `matches ${list.length} Quo contacts by ${by}: ${list.map((f) => `${describe(f.contact)} by ${f.value}`).join("; ")}; merge them in Quo, or fix the row` };
    }
    const { contact } = list[0] as { contact: WorkspaceContact };
    const otherKey = managed.get(contact.id);
    if (otherKey !== undefined) {
      return { kind: "reject", matched, reason: `matches Quo contact ${contact.id} by ${by} ${matched.value}, which this sync already manages for key '${otherKey}'` };
    }
    if (!mayTakeOver(contact, match)) {
      const why = contact.externalId ? `it carries externalId '${contact.externalId}' of another sync or tool` : `its source '${contact.source}' is not Quo's own (add it to match.sources to allow)`;
      return { kind: "reject", matched, reason: `matches Quo contact ${describe(contact)} by ${by} ${matched.value}, which may not be taken over: ${why}` };
    }
    return { kind: "link", contact, matched };
  }
  return { kind: "none" };
}
