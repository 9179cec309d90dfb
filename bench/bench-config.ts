/** The one sync every benchmark plans and runs: a CSV of people with two phones and an email. */
import { parseConfig, type Config } from "../src/config.js";

export function benchConfig(statePath: string, csvName: string): Config {
  return parseConfig({
    state: statePath,
    syncs: [
      {
        name: "bench",
        source: { type: "csv", path: csvName },
        key: "id",
        fields: { firstName: "First Name", lastName: "Last Name", company: "Company", phoneNumbers: { mobile: "Phone", work: "Work Phone" }, emails: { work: "Email" } },
        deletes: "mirror",
      },
    ],
  });
}
