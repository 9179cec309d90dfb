/**
 * What a state location is, without opening it: a `postgres://` URL or a SQLite file path, and how a
 * URL may be shown. Imports no engine, so either engine (and `store.ts`, which opens one) can use it
 * without loading the other.
 */

/** `postgres://` and `postgresql://` URLs are PostgreSQL; anything else is a SQLite file path. */
export function isPostgresUrl(state: string): boolean {
  return /^postgres(ql)?:\/\//i.test(state);
}

/** The URL as it may be shown: no password, no query string (which may carry one). Never throws. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    u.search = "";
    return u.toString();
  } catch {
    return "postgres://(unparseable URL)";
  }
}
