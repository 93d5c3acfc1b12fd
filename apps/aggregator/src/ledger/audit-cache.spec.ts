import { describe, expect, it, vi } from 'vitest';
import { LedgerAuditCache } from './audit-cache.js';

function ledger() {
  const state = { head: { seq: 0, hash: '0'.repeat(64) }, keys: new Map([['s1', 'key-1']]) };
  const repository = {
    head: vi.fn(async () => state.head),
    identityKeys: vi.fn(async () => new Map(state.keys)),
    entries: vi.fn(async () => []),
  };
  return { state, repository };
}

describe('LedgerAuditCache', () => {
  it('replays the ledger once per head: budgets and status share one audit until the head or the keys change', async () => {
    const { state, repository } = ledger();
    const cache = new LedgerAuditCache(repository, repository);
    const [a, b] = await Promise.all([cache.audit('f'), cache.audit('f')]);
    expect(a).toBe(b);
    expect(await cache.audit('f')).toBe(a);
    expect(repository.entries).toHaveBeenCalledTimes(1);

    state.head = { seq: 1, hash: '1'.repeat(64) };
    expect(await cache.audit('f')).not.toBe(a);
    expect(repository.entries).toHaveBeenCalledTimes(2);

    state.keys.set('s2', 'key-2');
    await cache.audit('f');
    expect(repository.entries).toHaveBeenCalledTimes(3);
    await cache.audit('other');
    expect(repository.entries).toHaveBeenCalledTimes(4);
  });

  it('does not keep a failed audit', async () => {
    const { repository } = ledger();
    repository.entries.mockRejectedValueOnce(new Error('connection lost'));
    const cache = new LedgerAuditCache(repository, repository);
    await expect(cache.audit('f')).rejects.toThrow('connection lost');
    await expect(cache.audit('f')).resolves.toMatchObject({ ok: true });
  });
});
