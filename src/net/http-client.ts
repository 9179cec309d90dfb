/**
 * The axios instance every API client here is built on (Quo, HubSpot): a base URL, fixed headers,
 * no redirects, a per-attempt timeout, every attempt (retries included) passing a shared
 * `Throttle`, and axios-retry replaying what the client's retry policy allows. What a client does
 * with outcomes (counters, logs, slowing the throttle after a 429) it plugs in through `HttpHooks`.
 */
import http from "node:http";
import https from "node:https";
import axios, { type AxiosError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse, type InternalAxiosRequestConfig } from "axios";
import axiosRetry from "axios-retry";
import { retryConditionFor, type RetryPolicy } from "./retry.js";
import type { Throttle, ThrottleSlot } from "./throttle.js";

/** Callbacks on each attempt's outcome; none may throw. */
export interface HttpHooks {
  /** An attempt was granted by the throttle and is about to be sent. */
  onAttempt?(config: InternalAxiosRequestConfig): void;
  /** An attempt got a 2xx answer. */
  onResponse?(res: AxiosResponse): void;
  /** An attempt failed (any status outside 2xx, or no response), before the retry decision. */
  onFailure?(error: AxiosError): void;
  /** A failed attempt is about to be replayed after `delayMs`; `retryCount` is 1 for the first replay. */
  onRetry?(retryCount: number, error: AxiosError, config: AxiosRequestConfig, delayMs: number): void;
}

/** How `createHttpClient` builds its instance. */
export interface HttpClientOptions {
  /** Checked beforehand (`checkBaseUrl`); request paths are appended to it. */
  baseUrl: string;
  /** Sent on every request (authentication, User-Agent); `Accept: application/json` is added. */
  headers: Record<string, string>;
  /** Per attempt; the throttle's wait happens before the timer starts. */
  timeoutMs: number;
  /** Every attempt waits here; share one between clients that share a budget. */
  throttle: Throttle;
  /** Replays per request at most. */
  maxRetries: number;
  /** The policy of requests that do not set their own (see `requestRetry`). */
  retry: RetryPolicy | ((error: AxiosError) => boolean);
  /** The wait before the `retryCount`-th replay (1-based). */
  retryDelayMs(retryCount: number, error: AxiosError): number;
  hooks?: HttpHooks;
}

/**
 * The axios request config that gives one request its own retry policy, overriding the instance's:
 * spread it into `instance.request({...})`.
 */
export function requestRetry(policy: RetryPolicy): Pick<AxiosRequestConfig, "axios-retry"> {
  return { "axios-retry": { retryCondition: retryConditionFor(policy) } };
}

/**
 * Builds the instance (see the file comment). Requests made on it reject with axios's errors,
 * which hold the request headers: callers turn them into their own errors with
 * `describeHttpFailure` (`src/net/http-failure.ts`) and never keep them.
 */
export function createHttpClient(opts: HttpClientOptions): AxiosInstance {
  const hooks = opts.hooks ?? {};
  const slots = new WeakMap<object, ThrottleSlot>();
  const plannedDelay = new WeakMap<object, number>();
  const instance = axios.create({
    baseURL: opts.baseUrl,
    timeout: opts.timeoutMs,
    headers: { ...opts.headers, Accept: "application/json" },
    // The APIs never redirect; following one could carry the credentials to another host.
    maxRedirects: 0,
  });

  // axios-retry replays a request by calling the instance again, which runs the request
  // interceptors again: every attempt, retries included, waits for the throttle here.
  instance.interceptors.request.use(async (config) => {
    const slot = await opts.throttle.acquireSlot();
    slots.set(config, slot);
    config.transport = slotTransport(slot, opts.timeoutMs);
    hooks.onAttempt?.(config);
    return config;
  });
  // Registered before axios-retry, so it sees each attempt's outcome once.
  instance.interceptors.response.use(
    (res) => {
      slots.get(res.config)?.started();
      hooks.onResponse?.(res);
      return res;
    },
    (error: unknown) => {
      if (axios.isAxiosError(error)) {
        if (error.config) slots.get(error.config)?.started();
        hooks.onFailure?.(error);
      }
      return Promise.reject(error);
    },
  );
  axiosRetry(instance, {
    retries: opts.maxRetries,
    // Each attempt gets the full timeout; the wait in the throttle happens before the timer starts.
    shouldResetTimeout: true,
    retryCondition: typeof opts.retry === "function" ? opts.retry : retryConditionFor(opts.retry),
    retryDelay: (retryCount, error) => {
      const delay = opts.retryDelayMs(retryCount, error);
      plannedDelay.set(error, delay);
      return delay;
    },
    onRetry: (retryCount, error, config) => hooks.onRetry?.(retryCount, error, config, plannedDelay.get(error) ?? 0),
  });
  return instance;
}

/** What axios calls to open one attempt's request (its `transport` option). */
interface Transport {
  request(options: http.RequestOptions, callback: (res: http.IncomingMessage) => void): http.ClientRequest;
}

/**
 * The node:http(s) transport of one attempt. It tells the throttle when the request has actually
 * been written ("finish"), so a request that waited for a new connection counts from when it left,
 * not from when it was granted. Because axios only arms its wall-clock connect timer for its own
 * transport, this one keeps the same per-attempt limit itself (until the response begins; a stalled
 * body is caught by axios's socket timeout).
 */
function slotTransport(slot: ThrottleSlot, timeoutMs: number): Transport {
  return {
    request(options, callback) {
      const req = (options.protocol === "https:" ? https : http).request(options, callback);
      const timer = setTimeout(() => {
        const error: NodeJS.ErrnoException = new Error(`timeout of ${timeoutMs}ms exceeded`);
        error.code = "ETIMEDOUT";
        req.destroy(error);
      }, timeoutMs);
      req.once("finish", () => slot.started());
      req.once("response", () => clearTimeout(timer));
      req.once("close", () => {
        clearTimeout(timer);
        slot.started();
      });
      return req;
    },
  };
}
