/** The one sync every benchmark plans and runs: a CSV of people with two phones and an email. */
import { parseConfig, type Config } from "../src/config.js";

export function benchConfig(statePath: string, csvName: string, policies = false): Config {
  return parseConfig({
    state: statePath,
    syncs: [
      {
        name: "bench",
        source: { type: "csv", path: csvName },
        key: "id",
        fields: { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
        deletes: "mirror",
        ...(policies ? POLICIES : {}),
      },
    ],
  });
}

/**
 * The same sync with every mapping policy at work: a filter of two conditions (one an `any`), a
 * company translated by a map with a default, a role from a template, a constant custom-field-free
 * value, and blanks kept.
 */
const POLICIES = {
  blanks: "keep",
  where: [
    { column: "Company", notIn: ["Company 13", "Company 42"] },
    { any: [{ column: "Phone", notBlank: true }, { column: "Email", matches: "@example\\.com$" }] },
  ],
  fields: {
    firstName: "First Name",
    lastName: "Last Name",
    company: { column: "Company", map: { "company 1": "Acme", "company 2": "Globex", "company 3": "Initech" }, default: "Independent" },
    role: { template: "{{First Name}} {{Last Name}} ({{Company}})" },
    phoneNumbers: { mobile: "Phone", work: { column: "Work Phone", blanks: "clear" } },
    emails: { work: "Email" },
  },
};
