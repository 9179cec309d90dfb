import { describe, expect, it } from "vitest";
import type { Snapshot, SourceRow } from "../../src/model.js";
import { keyRows } from "../../src/plan/snapshot.js";

function snapshot(ids: (string | undefined)[]): Snapshot {
  return {
    origin: "contacts.csv",
    columns: ["id", "First Name"],
    rows: ids.map((id, i): SourceRow => ({
      row: i + 2,
      values: id === undefined ? { "First Name": `P${i}` } : { id, "First Name": `P${i}` },
    })),
  };
}

describe("keyRows", () => {
  it.each([
    {
      name: "unique keys, trimmed, in source order",
      ids: ["42", " 7 ", "abc"],
      keys: [["42", 2], ["7", 3], ["abc", 4]],
      rejected: [],
    },
    {
      name: "a blank or missing key is rejected",
      ids: ["1", "  ", undefined, ""],
      keys: [["1", 2]],
      rejected: [
        { row: 3, field: "key", value: "", reason: "key: the key column 'id' is empty" },
        { row: 4, field: "key", value: "", reason: "key: the key column 'id' is empty" },
        { row: 5, field: "key", value: "", reason: "key: the key column 'id' is empty" },
      ],
    },
    {
      name: "the first occurrence of a key wins, later ones name it",
      ids: ["9", "9", "42", " 42", "9"],
      keys: [["9", 2], ["42", 4]],
      rejected: [
        { key: "9", row: 3, field: "key", value: "9", reason: "key: '9' repeats the key of row 2" },
        { key: "42", row: 5, field: "key", value: "42", reason: "key: '42' repeats the key of row 4" },
        { key: "9", row: 6, field: "key", value: "9", reason: "key: '9' repeats the key of row 2" },
      ],
    },
    {
      name: "keys are case-sensitive",
      ids: ["ab12", "AB12"],
      keys: [["ab12", 2], ["AB12", 3]],
      rejected: [],
    },
    { name: "an empty snapshot", ids: [], keys: [], rejected: [] },
  ])("$name", ({ ids, keys, rejected }) => {
    const snap = snapshot(ids);
    const result = keyRows(snap, "id");
    expect(result.rows.map((r) => [r.key, r.row.row])).toEqual(keys);
    expect(result.rejected).toStrictEqual(rejected);
    for (const r of result.rows) expect(r.row).toBe(snap.rows[r.row.row - 2]);
  });

  it("keys rows the connector flagged, leaving their rejection to the mapping", () => {
    const snap: Snapshot = {
      origin: "contacts.csv",
      columns: ["id"],
      rows: [{ row: 2, values: { id: "5" }, problem: "line 2 has 4 cells but the header has 3" }],
    };
    expect(keyRows(snap, "id")).toEqual({ rows: [{ key: "5", row: snap.rows[0] }], rejected: [] });
  });
});
