/**
 * Lookups gathered into one query: the keys asked for within one turn of the event loop are loaded together. A
 * burst of agents authenticating (1,000 simulated sites connecting at once) otherwise costs one PGlite round trip
 * per site and lookup on the server's single thread. A batch reads the rows at most one event-loop turn later
 * than a lone query would, never a value from an earlier batch (nothing is cached).
 */
export function coalesced<K, V>(
  load: (keys: K[]) => Promise<Map<K, V>>,
  maxBatch = 500,
): (key: K) => Promise<V | undefined> {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch: expected a positive integer');
  let pending: { key: K; resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    for (let i = 0; i < batch.length; i += maxBatch) {
      const part = batch.slice(i, i + maxBatch);
      load([...new Set(part.map((p) => p.key))]).then(
        (values) => part.forEach((p) => p.resolve(values.get(p.key))),
        (error: unknown) => part.forEach((p) => p.reject(error)),
      );
    }
  };
  return (key) =>
    new Promise((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ key, resolve, reject });
    });
}
