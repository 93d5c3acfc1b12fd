import { describe, expect, it } from 'vitest';
import { coalesced } from './coalesce.js';

describe('coalesced', () => {
  it('loads the keys asked for within one event-loop turn together, and later ones in a new load', async () => {
    const loads: string[][] = [];
    const get = coalesced<string, number>(async (keys) => {
      loads.push(keys);
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.length]));
    });
    expect(await Promise.all([get('a'), get('bb'), get('a'), get('missing')])).toEqual([1, 2, 1, undefined]);
    expect(await get('ccc')).toBe(3);
    expect(loads).toEqual([['a', 'bb', 'missing'], ['ccc']]);
  });

  it('splits a turn into loads of at most maxBatch keys, and fails only the batch whose load failed', async () => {
    const loads: number[][] = [];
    const get = coalesced<number, number>(async (keys) => {
      loads.push(keys);
      if (keys.includes(3)) throw new Error('boom');
      return new Map(keys.map((k) => [k, k * 10]));
    }, 2);
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(get));
    expect(loads).toEqual([[1, 2], [3, 4], [5]]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual([
      10,
      20,
      'failed',
      'failed',
      50,
    ]);
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => coalesced(async () => new Map(), 0)).toThrow(RangeError);
    expect(() => coalesced(async () => new Map(), 1.5)).toThrow(RangeError);
  });
});
