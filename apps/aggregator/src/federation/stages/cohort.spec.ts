import { describe, expect, it } from 'vitest';
import { openRound } from './cohort.js';
import { settings } from './test-fakes.js';

describe('openRound', () => {
  it('draws at most maxSites of the connected sites, keeps the active ones and pins each chain head', async () => {
    const opened: string[][] = [];
    const connected = Array.from({ length: 30 }, (_, i) => `s${i}`);
    const { roster } = await openRound(
      {
        sites: {
          sitesOf: async (_f: string, ids: readonly string[]) =>
            ids.map((id) => ({
              id,
              status: id === 's3' ? 'suspended' : 'active',
              identityPublicKey: `key-${id}`,
            })) as never,
        },
        ledger: { lastReceipts: async () => new Map([['s1', { sequence: 4, receiptHash: 'h' }]]) },
        rounds: {
          open: async (_f: string, ids: readonly string[]) => {
            opened.push([...ids]);
            return { id: 'r', number: 1 } as never;
          },
        },
      },
      'fed-1',
      settings,
      connected,
    );
    expect(roster.length).toBeLessThanOrEqual(settings.cohort.maxSites);
    expect(new Set(roster.map((m) => m.siteId)).size).toBe(roster.length);
    expect(roster.every((m) => m.siteId !== 's3' && m.identityPublicKey === `key-${m.siteId}`)).toBe(true);
    for (const m of roster) expect(m.lastReceipt).toEqual(m.siteId === 's1' ? { sequence: 4, receiptHash: 'h' } : null);
    expect(opened).toEqual([roster.map((m) => m.siteId)]);
  });
});
