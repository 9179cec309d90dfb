import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { parseHttpAddress, planSchedules } from "../../src/daemon/schedules.js";
import { ConfigError } from "../../src/errors.js";

function config(schedules: (string | undefined)[]) {
  return parseConfig({
    syncs: schedules.map((schedule, i) => ({
      name: `s${i}`,
      source: { type: "csv", path: "c.csv" },
      key: "id",
      fields: { firstName: "First" },
      ...(schedule !== undefined ? { schedule } : {}),
    })),
  });
}

describe("planSchedules", () => {
  it.each([
    ["5 fields", "0 * * * *"],
    ["6 fields, seconds first", "*/1 * * * * *"],
    ["names and ranges", "30 2 * * mon-fri"],
    ["steps", "*/15 * * * *"],
  ])("accepts %s: %s", (_, expr) => {
    expect(planSchedules(config([expr])).scheduled).toEqual([{ index: 0, name: "s0", schedule: expr }]);
  });

  it.each([
    ["minute out of range", "61 * * * *"],
    ["too few fields", "* * *"],
    ["not cron", "hourly"],
    ["bad step", "*/x * * * *"],
  ])("rejects %s, naming the sync by index and name: %s", (_, expr) => {
    expect(() => planSchedules(config(["0 * * * *", expr]))).toThrow(new ConfigError(`syncs[1] (name 's1'): schedule '${expr}' is not a valid cron expression (5 fields, or 6 with seconds first, e.g. '0 * * * *')`));
  });

  it("names every bad sync at once", () => {
    expect(() => planSchedules(config(["bad", "0 * * * *", "also bad"]))).toThrow(/syncs\[0\] \(name 's0'\).*\n.*syncs\[2\] \(name 's2'\)/);
  });

  it("leaves syncs without a schedule out, and refuses when none has one", () => {
    expect(planSchedules(config([undefined, "0 * * * *"]))).toEqual({ scheduled: [{ index: 1, name: "s1", schedule: "0 * * * *" }], unscheduled: [{ index: 0, name: "s0" }] });
    expect(() => planSchedules(config([undefined]))).toThrow(/no sync has a 'schedule'/);
  });
});

describe("parseHttpAddress", () => {
  it.each([
    ["127.0.0.1:9464", { host: "127.0.0.1", port: 9464 }],
    [":9464", { host: "0.0.0.0", port: 9464 }],
    ["[::1]:9464", { host: "::1", port: 9464 }],
    ["localhost:0", { host: "localhost", port: 0 }],
  ])("%s", (value, want) => {
    expect(parseHttpAddress(value)).toEqual(want);
  });

  it.each(["localhost", "127.0.0.1:", "127.0.0.1:99999", "host:port", "::1:80"])("rejects %s", (value) => {
    expect(() => parseHttpAddress(value)).toThrow(ConfigError);
  });
});
