/**
 * Injected failures. Two kinds, as the emulators' tests need them:
 *  - random faults (`RandomFaults`): each request fails with a given probability, drawn from a
 *    seeded PRNG so a run replays exactly from its seed; a failure is either a 500 that changes
 *    nothing, or a lost response (the request is applied, then the connection dies unanswered);
 *  - counted faults (`CountedFaults`): the next N matching requests fail, for tests that need one
 *    failure at one place.
 * What a failure's answer looks like is the emulator's: the kit only decides which requests fail.
 */
import { isObject } from "./http.js";

/** mulberry32: a tiny deterministic PRNG so fault runs (and the tests and soak that drive them) replay from a seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Settings of random faults, over the request methods `M` an emulator serves. */
export interface RandomFaultOptions<M extends string = string> {
  /** Probability that a request gets a 500 WITHOUT being applied. */
  serverErrorRate?: number;
  /**
   * Probability that a request (of the methods the emulator lets lose a response) IS processed and
   * then the socket is destroyed with no response, whatever that response would have been.
   */
  lostResponseRate?: number;
  /** Which methods faults apply to; default all the emulator serves. */
  methods?: M[];
  /** Seed of the deterministic PRNG (mulberry32); default 1. */
  seed?: number;
}

/** What to do with one request: answer a 500, lose the response, or nothing (undefined). */
export type FaultDecision = "error" | "lost" | undefined;

/** The methods an emulator serves, and those of them whose response may be lost. */
export interface RandomFaultMethods<M extends string> {
  all: readonly M[];
  /** Typically the writes only: losing a read's answer teaches a client nothing a 500 does not. */
  lostResponse: readonly M[];
}

/**
 * Random faults, off until `set`. The same settings and the same sequence of `decide` calls always
 * give the same decisions: the PRNG restarts from the seed on every `set`, and draws only for
 * requests faults apply to.
 */
export class RandomFaults<M extends string> {
  private settings: Required<RandomFaultOptions<M>> | undefined;
  private rand: () => number = mulberry32(1);

  constructor(private readonly methods: RandomFaultMethods<M>) {}

  /** Replaces the settings and restarts the PRNG from their seed; `undefined` turns faults off. */
  set(f: RandomFaultOptions<M> | undefined): void {
    if (!f) {
      this.settings = undefined;
      return;
    }
    this.settings = {
      serverErrorRate: f.serverErrorRate ?? 0,
      lostResponseRate: f.lostResponseRate ?? 0,
      methods: f.methods ? [...f.methods] : [...this.methods.all],
      seed: f.seed ?? 1,
    };
    this.rand = mulberry32(this.settings.seed);
  }

  /**
   * Decides the fault for one request. Call it once per request that faults may hit, in arrival
   * order; a 500 is drawn first, then a lost response.
   */
  decide(method: string): FaultDecision {
    const s = this.settings;
    if (!s || !s.methods.includes(method as M)) return undefined;
    if (s.serverErrorRate > 0 && this.rand() < s.serverErrorRate) return "error";
    if (this.methods.lostResponse.includes(method as M) && s.lostResponseRate > 0 && this.rand() < s.lostResponseRate) return "lost";
    return undefined;
  }
}

/**
 * Checks a JSON body (an admin request) as random fault settings: returns them, undefined for
 * null or no body (faults off), or the reason it is refused.
 */
export function parseRandomFaults<M extends string>(body: unknown, methods: readonly M[]): RandomFaultOptions<M> | undefined | string {
  if (body === undefined || body === null) return undefined;
  if (!isObject(body)) return "Expected a FaultOptions object or null";
  const out: RandomFaultOptions<M> = {};
  for (const k of ["serverErrorRate", "lostResponseRate"] as const) {
    const v = body[k];
    if (v === undefined) continue;
    if (typeof v !== "number" || v < 0 || v > 1) return `${k} must be a number between 0 and 1`;
    out[k] = v;
  }
  if (body["methods"] !== undefined) {
    const m = body["methods"];
    if (!Array.isArray(m) || !m.every((x) => methods.includes(x as M))) {
      return `methods must be a subset of ${methods.join(", ")}`;
    }
    out.methods = m as M[];
  }
  if (body["seed"] !== undefined) {
    if (!Number.isSafeInteger(body["seed"])) return "seed must be an integer";
    out.seed = body["seed"] as number;
  }
  return out;
}

/**
 * Faults that each fail a number of matching requests, then are spent. Kept in the order added;
 * a request takes the first one still live that matches it.
 */
export class CountedFaults<F> {
  private faults: { fault: F; left: number }[] = [];

  /** Adds a fault for the next `times` matching requests (`Infinity`: until removed). */
  add(fault: F, times: number): void {
    this.faults.push({ fault, left: times });
  }

  /** Replaces every fault with this one, or with none when `fault` is undefined. */
  replace(fault: F | undefined, times: number): void {
    this.clear();
    if (fault !== undefined) this.add(fault, times);
  }

  /** Drops every fault, spent or not. */
  clear(): void {
    this.faults = [];
  }

  /** The first live fault that `matches` the request, counted as used; undefined when none does. */
  take(matches: (fault: F) => boolean): F | undefined {
    const hit = this.faults.find((f) => f.left > 0 && matches(f.fault));
    if (!hit) return undefined;
    hit.left -= 1;
    return hit.fault;
  }
}
