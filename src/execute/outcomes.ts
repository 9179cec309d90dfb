/**
 * How the executor tells failures apart: which end the run, which certainly did not write, and how
 * one failed action is reported.
 */
import { LockLost, StateError } from "../errors.js";
import type { Action, ActionOutcome, ErrorInfo } from "../model.js";
import { QuoApiError } from "../quo/errors.js";
import type { ExecuteContext } from "./context.js";

export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof QuoApiError) {
    return {
      message: e.message,
      status: e.status,
      ...(e.code ? { code: e.code } : {}),
      ...(e.trace ? { trace: e.trace } : {}),
    };
  }
  return { message: e instanceof Error ? e.message : String(e), status: null };
}

/** True when Quo answered and the write certainly did not happen (a 4xx other than 429). */
export function definitelyRefused(e: unknown): boolean {
  return (e instanceof QuoApiError && !e.transient && e.status !== null) || e instanceof ContactGone || e instanceof UnsafeCopy;
}

/**
 * A credential problem (401/403) is not about one contact: every further write would fail the same
 * way, so it ends the run instead of being reported contact by contact. So do a failing state
 * database and a lost lock.
 */
export function isFatal(e: unknown): boolean {
  return (e instanceof QuoApiError && (e.status === 401 || e.status === 403)) || isStateFailure(e) || e instanceof LockLost;
}

/**
 * The state database failed (a full disk, a lost file): no further write can be recorded, so none
 * may be sent.
 */
function isStateFailure(e: unknown): boolean {
  return e instanceof StateError || (e instanceof Error && e.name === "SqliteError");
}

/** Quo no longer has the contact a write was for (read as 404 after a failed PATCH). */
export class ContactGone extends Error {}

/**
 * No safe whole-contact write can be built from Quo's copy (a list missing from it, a held number
 * the API would refuse): nothing was sent, and the reason says what a person can do.
 */
export class UnsafeCopy extends Error {}

export function isNotFound(e: unknown): boolean {
  return e instanceof QuoApiError && e.status === 404;
}

/** A failed action: fatal errors end the run, any other is reported with Quo's message. */
export function failed(ctx: ExecuteContext, a: Action, e: unknown, what: string): ActionOutcome {
  if (isFatal(e)) throw e;
  ctx.logger.warn({ key: a.key, error: errorInfo(e) }, `${what} failed`);
  return { action: a, status: "failed", ...(a.action === "create" ? {} : { quoId: a.quoId }), error: errorInfo(e) };
}

/** An action the executor decided not to carry out, with why (no request was refused by Quo). */
export function declined(ctx: ExecuteContext, a: Action, quoId: string | undefined, message: string): ActionOutcome {
  ctx.logger.warn({ key: a.key, quoId, reason: message }, `${a.action} not written`);
  return { action: a, status: "failed", ...(quoId ? { quoId } : {}), error: { message, status: null } };
}
