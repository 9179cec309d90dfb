/** A bounded pool of concurrent work, for the executor's writes. */

/**
 * Runs `run` over `items` with at most `limit` in flight; stops starting new ones when `signal`
 * aborts or one of them throws. The first error is rethrown only once every run in flight has
 * finished and recorded its outcome, so nothing in flight is abandoned when the state database
 * is closed after a fatal error.
 */
export async function pool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted && !failure) {
      const item = items[next++] as T;
      try {
        await run(item);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}
