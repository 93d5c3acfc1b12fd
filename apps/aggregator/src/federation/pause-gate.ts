import { setTimeout as sleep } from 'node:timers/promises';

export type FederationStatus = 'draft' | 'active' | 'paused' | 'completed' | 'exhausted' | 'archived';

/**
 * Checked before every round: an operator's pause (POST /api/federations/:id/pause) holds the round loop until the
 * federation is resumed; the round in flight, if any, finishes first, so nothing charged is left half-done.
 * Returns the status that let the loop go on. The wait ends early only when `signal` aborts (server shutdown).
 */
export async function waitWhilePaused(
  readStatus: () => Promise<FederationStatus | undefined>,
  signal?: AbortSignal,
  pollMs = 500,
): Promise<FederationStatus | undefined> {
  for (;;) {
    signal?.throwIfAborted();
    const status = await readStatus();
    if (status !== 'paused') return status;
    // the timer rejects with a generic AbortError; surface the signal's own reason instead
    await sleep(pollMs, undefined, { signal }).catch((error) => {
      signal?.throwIfAborted();
      throw error;
    });
  }
}
