import { describe, expect, it } from 'vitest';
import type { PrivacyReceipt, SecAggServerMessage } from '@concord/protocol';
import type { SecAggServer, StageOutcome } from '@concord/secagg';
import { LedgerError, type LedgerAppendInput } from '../../repositories/ledger.repository.js';
import { SecAggSession } from '../secagg-session.js';
import { chargeThenUnmask, type ChargeDeps } from './charge.js';
import { fakeConnections, fakeContext, fakeDb } from './test-fakes.js';

const sites = ['site-a', 'site-b', 'site-c'];

/** A SecAgg+ server at the consistency stage: its next stage is unmasking, which ends the round with a sum. */
function unmaskingServer(log: string[]): SecAggServer {
  return {
    stageComplete: true,
    stageDeadline: 0,
    receive: (message: { clientId: string }) => log.push(`share from ${message.clientId}`),
    closeStage: async () => ({ status: 'done', sum: new Uint32Array([1, 2, 3]), survivors: sites }),
  } as unknown as SecAggServer;
}

function unmaskRequests(): StageOutcome {
  const messages = new Map<string, SecAggServerMessage>(
    sites.map((id) => [id, { stage: 'unmask-request', clientId: id } as unknown as SecAggServerMessage]),
  );
  return { status: 'next', stage: 'unmasking', messages } as StageOutcome;
}

function setup(refuse?: string) {
  const log: string[] = [];
  const db = fakeDb(log);
  const deps: ChargeDeps = {
    db,
    ledger: {
      appendMany: async (tx, inputs: readonly LedgerAppendInput[]) => {
        expect(tx).toBe(db.tx); // the charge runs on the caller's transaction
        for (const input of inputs) {
          if (input.siteId === refuse) throw new LedgerError('E_LEDGER_SIGNATURE', 'signature does not verify');
          log.push(`charge ${input.siteId}`);
        }
        return [];
      },
    },
    rounds: {
      setState: async (_roundId, state, _patch, executor) => {
        expect(executor).toBe(db.tx);
        log.push(`state ${state}`);
      },
    },
  };
  const connections = fakeConnections(log, (siteId) => ({ clientId: siteId, stage: 'unmask' }));
  const session = new SecAggSession(unmaskingServer(log), connections, 'fed-1', 'round-1');
  const receipts = new Map(sites.map((id) => [id, { receipt: { siteId: id } as PrivacyReceipt, signature: 'sig' }]));
  const masked = { session, outcome: unmaskRequests(), survivors: sites, receipts };
  return { log, deps, masked };
}

describe('chargeThenUnmask (the charge gate)', () => {
  it('commits every survivor charge and the unmasking state before the first share is requested', async () => {
    const { log, deps, masked } = setup();
    const result = await chargeThenUnmask(deps, fakeContext(sites), 'local', masked);
    expect(result.survivors).toEqual(sites);
    const commit = log.indexOf('commit');
    const firstRequest = log.findIndex((line) => line.startsWith('request '));
    expect(log.slice(0, commit + 1)).toEqual([
      'begin',
      'charge site-a',
      'charge site-b',
      'charge site-c',
      'state unmasking',
      'commit',
    ]);
    expect(firstRequest).toBeGreaterThan(commit);
    expect(log.filter((line) => line.startsWith('request secagg:unmask'))).toHaveLength(3);
  });

  it('requests no share at all when a charge fails, and rolls the whole charge back', async () => {
    const { log, deps, masked } = setup('site-b');
    await expect(chargeThenUnmask(deps, fakeContext(sites), 'local', masked)).rejects.toMatchObject({
      code: 'E_LEDGER_SIGNATURE',
    });
    expect(log).toEqual(['begin', 'charge site-a', 'rollback']);
    expect(log.some((line) => line.startsWith('request '))).toBe(false);
  });

  it('charges nothing in mode none, yet still commits the unmasking state before any share request', async () => {
    const { log, deps, masked } = setup();
    await chargeThenUnmask(deps, fakeContext(sites), 'none', masked);
    expect(log.slice(0, 3)).toEqual(['begin', 'state unmasking', 'commit']);
    expect(log.filter((line) => line.startsWith('charge'))).toEqual([]);
  });
});
