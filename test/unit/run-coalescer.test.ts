/**
 * RunCoalescer against a scheduler stand-in that records the runs it is asked for: a burst is one
 * run, a request during a run is exactly one more, `verify` asked by any request of a burst wins,
 * and a run started elsewhere (a tick) is waited for.
 */
import { describe, expect, it } from "vitest";
import type { RequestRefusal, RunRequest } from "../../src/daemon/scheduler.js";
import { pino } from "pino";
import { MAX_TARGETED_IDS, mergeRequests, RunCoalescer, type RunRequester, type TriggerRequest } from "../../src/triggers/run-coalescer.js";

class FakeScheduler implements RunRequester {
  readonly started: RunRequest[] = [];
  private running: { promise: Promise<void>; finish: () => void } | null = null;
  stopping = false;

  /** Runs that find the lock held by another process, counted down. */
  lockedElsewhere = 0;

  request(_name: string, how: RunRequest): { started: true; ran: Promise<boolean> } | { started: false; why: RequestRefusal } {
    if (this.stopping) return { started: false, why: "stopping" };
    if (this.running) return { started: false, why: "busy" };
    this.started.push(how);
    if (this.lockedElsewhere > 0) {
      this.lockedElsewhere--;
      return { started: true, ran: Promise.resolve(false) };
    }
    return { started: true, ran: this.begin().then(() => true) };
  }

  /** A run in progress until `finish()`, as a tick would start one. */
  begin(): Promise<void> {
    let finish!: () => void;
    const promise = new Promise<void>((r) => (finish = r)).then(() => {
      this.running = null;
    });
    this.running = { promise, finish };
    return promise;
  }

  finish(): void {
    this.running?.finish();
  }

  async whenIdle(): Promise<void> {
    await this.running?.promise;
  }

  isStopping(): boolean {
    return this.stopping;
  }
}

async function until(probe: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tick = () => new Promise((r) => setTimeout(r, 5));
const logger = pino({ level: "silent" });

describe("RunCoalescer", () => {
  it("many requests before the run starts are one run; verify from any of them wins", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    for (let i = 0; i < 50; i++) c.ask("leads", { trigger: "webhook", verify: i === 17, quietMs: 30 });
    await new Promise((r) => setTimeout(r, 60));
    expect(s.started).toEqual([{ allowDeletes: false, trigger: "webhook", verify: true }]);
    s.finish();
    await c.idle();
    expect(s.started).toHaveLength(1);
  });

  it("requests during a run make exactly one more run after it", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    c.ask("leads", { trigger: "watch" });
    await tick();
    expect(s.started).toHaveLength(1);
    for (let i = 0; i < 20; i++) c.ask("leads", { trigger: "watch" });
    await tick();
    expect(s.started).toHaveLength(1);
    s.finish();
    await tick();
    expect(s.started).toHaveLength(2);
    s.finish();
    await c.idle();
    expect(s.started).toHaveLength(2);
  });

  it("a run started elsewhere (a tick) is waited for, then the requested run starts", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    void s.begin();
    c.ask("leads", { trigger: "webhook" });
    await tick();
    expect(s.started).toHaveLength(0);
    s.finish();
    await tick();
    expect(s.started).toHaveLength(1);
    s.finish();
    await c.idle();
  });

  it("a run that found the lock held elsewhere is asked for again", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    s.lockedElsewhere = 1;
    c.ask("leads", { trigger: "webhook", verify: true });
    await until(() => s.started.length === 2, 5_000);
    expect(s.started[1]).toEqual({ allowDeletes: false, trigger: "webhook", verify: true });
    s.finish();
    await c.idle();
    expect(s.started).toHaveLength(2);
  });

  it("nothing starts once the daemon is stopping", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    s.stopping = true;
    c.ask("leads", { trigger: "webhook" });
    await c.idle();
    expect(s.started).toHaveLength(0);
  });
});

describe("RunCoalescer: targeted runs", () => {
  it("a burst of targeted requests is one run on the union of their ids; a merged-away id is not read", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    c.ask("crm", { trigger: "webhook", quietMs: 30, targets: { ids: ["1", "2"] } });
    c.ask("crm", { trigger: "webhook", quietMs: 30, targets: { ids: ["2", "3"] } });
    c.ask("crm", { trigger: "webhook", quietMs: 30, targets: { ids: ["4"], gone: ["3"] } });
    await until(() => s.started.length === 1, 2_000);
    expect(s.started).toEqual([{ allowDeletes: false, trigger: "webhook", targets: { ids: ["1", "2", "4"], gone: ["3"] } }]);
    s.finish();
    await c.idle();
    expect(s.started).toHaveLength(1);
  });

  it("a request without ids in the burst wins: the run is an ordinary one", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    c.ask("crm", { trigger: "webhook", quietMs: 30, targets: { ids: ["1"] } });
    c.ask("crm", { trigger: "webhook", quietMs: 30 });
    c.ask("crm", { trigger: "webhook", quietMs: 30, targets: { ids: ["2"] } });
    await until(() => s.started.length === 1, 2_000);
    expect(s.started[0]).toEqual({ allowDeletes: false, trigger: "webhook" });
    s.finish();
    await c.idle();
  });

  it("ids asked for during a run make one more targeted run of just those", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    c.ask("crm", { trigger: "webhook", targets: { ids: ["1"] } });
    await tick();
    c.ask("crm", { trigger: "webhook", targets: { ids: ["5"] } });
    c.ask("crm", { trigger: "webhook", targets: { ids: ["6"] } });
    s.finish();
    await until(() => s.started.length === 2, 2_000);
    expect(s.started.map((r) => r.targets)).toEqual([{ ids: ["1"] }, { ids: ["5", "6"] }]);
    s.finish();
    await c.idle();
  });

  it("mergeRequests unites ids, keeps verify, and an ordinary request on either side wins", () => {
    expect(mergeRequests({ trigger: "webhook", targets: { ids: ["1"] } }, { trigger: "webhook", verify: true, targets: { ids: ["1", "2"], gone: ["9"] } })).toEqual({ trigger: "webhook", verify: true, quietMs: 0, targets: { ids: ["1", "2"], gone: ["9"] } });
    expect(mergeRequests({ trigger: "webhook" }, { trigger: "webhook", targets: { ids: ["1"] } }).targets).toBeUndefined();
    expect(mergeRequests({ trigger: "webhook", targets: { ids: ["1"] } }, { trigger: "watch" }).targets).toBeUndefined();
  });

  it("a burst naming more than MAX_TARGETED_IDS records becomes an ordinary run; up to it, it stays targeted", () => {
    const ask = (from: number, n: number, gone: string[] = []): TriggerRequest => ({ trigger: "webhook", targets: { ids: Array.from({ length: n }, (_, i) => String(from + i)), ...(gone.length ? { gone } : {}) } });
    let burst = ask(0, 100);
    for (let i = 1; i < MAX_TARGETED_IDS / 100; i++) burst = mergeRequests(burst, ask(i * 100, 100));
    expect(burst.targets!.ids).toHaveLength(MAX_TARGETED_IDS);
    // One more id (or one more gone one) is past the cap: the run reads the source as usual.
    expect(mergeRequests(burst, ask(MAX_TARGETED_IDS, 1)).targets).toBeUndefined();
    expect(mergeRequests(burst, ask(0, 1, ["gone-1"])).targets).toBeUndefined();
    // Ids seen twice count once.
    expect(mergeRequests(burst, ask(0, 100)).targets!.ids).toHaveLength(MAX_TARGETED_IDS);
  });

  it("mergeRequests unites the keys to read back; a verify of every contact wins", () => {
    expect(mergeRequests({ trigger: "webhook", verify: true, verifyKeys: ["K1"] }, { trigger: "webhook", verify: true, verifyKeys: ["K2", "K1"] }).verifyKeys).toEqual(["K1", "K2"]);
    expect(mergeRequests({ trigger: "watch" }, { trigger: "webhook", verify: true, verifyKeys: ["K1"] })).toEqual({ trigger: "watch", verify: true, quietMs: 0, verifyKeys: ["K1"] });
    expect(mergeRequests({ trigger: "webhook", verify: true, verifyKeys: ["K1"] }, { trigger: "webhook", verify: true }).verifyKeys).toBeUndefined();
  });
});

describe("RunCoalescer: targeted runs beside a tick", () => {
  it("ids that come while a scheduled run is in progress make one targeted run of those ids after it", async () => {
    const s = new FakeScheduler();
    const c = new RunCoalescer(s, logger);
    void s.begin(); // the tick
    c.ask("crm", { trigger: "webhook", targets: { ids: ["1"] } });
    c.ask("crm", { trigger: "webhook", targets: { ids: ["2"] } });
    await tick();
    expect(s.started).toHaveLength(0);
    s.finish();
    await until(() => s.started.length === 1, 2_000);
    expect(s.started[0]).toEqual({ allowDeletes: false, trigger: "webhook", targets: { ids: ["1", "2"] } });
    s.finish();
    await c.idle();
    expect(s.started).toHaveLength(1);
  });
});
