/**
 * Runs `work` on every item, at most `limit` at once (at least one), each item once; `work` gets
 * the item's index so results can be kept in the items' order. Once `signal` is aborted no item
 * is started; the items in flight finish (the caller reports the ones never started).
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
