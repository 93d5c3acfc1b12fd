/**
 * A malicious server (Bonawitz et al. §4, active adversary; Bell et al. §5): it tries to learn one client's input by
 * obtaining both the share of its self-mask seed and the share of its masking key.
 */
import type { UnmaskRequest } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import { Ed25519Signer, seedBinding, shamirCombine, x25519PublicKey } from '../src/index.js';
import { signedSurvivors } from '../src/messages.js';
import { makeConfig, makeIdentities, randomInputs, runRound } from './harness.js';

async function atUnmask(n = 7, k = 6, t = 4) {
  const ids = makeIdentities(n, 'adv');
  const config = makeConfig(ids, { threshold: t, neighbours: k, vectorLength: 16, label: 'adv' });
  const inputs = randomInputs(ids, 16, 'adv');
  const run = await runRound(config, ids, inputs, new Map([[ids[n - 1].clientId, 2]]), { label: 'adv', until: 4 });
  if (run.outcome.status !== 'next') throw new Error('round should reach the unmask stage');
  const requests = run.outcome.messages as Map<string, UnmaskRequest>;
  return { ids, run, requests, victim: ids[0].clientId, dropped: ids[n - 1].clientId };
}

const code = (code: string) => expect.objectContaining({ code });

describe('adversarial server', () => {
  it('a live client claimed dropped (to get its key shares) is refused by every honest client', async () => {
    const { requests, run, victim } = await atUnmask();
    for (const [id, request] of requests) {
      const lie: UnmaskRequest = { ...request, dropped: [...request.dropped, victim].sort() };
      expect(() => run.clients.get(id)!.unmaskShares(lie)).toThrow(code('E_INCONSISTENT_DROPS'));
      expect(run.clients.get(id)!.currentStage).toBe('aborted'); // it will not answer a second, "corrected" request
    }
  });

  it('signatures on a survivor set other than the one the client signed (victim removed) are refused', async () => {
    const { requests, run, victim, ids } = await atUnmask();
    const [id, request] = [...requests][1];
    // the other survivors' signatures over the list without the victim: valid signatures, on another set
    const server = run.server.plan.config;
    const survivors = [...run.server.survivors].filter((s) => s !== victim);
    const otherList = signedSurvivors(server.federationId, server.roundId, survivors, seedBinding(server));
    const lie: UnmaskRequest = {
      ...request,
      signatures: request.signatures
        .filter((s) => s.clientId !== victim)
        .map((s) => ({
          clientId: s.clientId,
          signature: new Ed25519Signer(ids.find((i) => i.clientId === s.clientId)!.secretKey).sign(otherList),
        })),
    };
    expect(() => run.clients.get(id)!.unmaskShares(lie)).toThrow(code('E_BAD_SIGNATURE'));
  });

  it('forged or too few consistency signatures are refused', async () => {
    const { requests, run } = await atUnmask();
    const entries = [...requests];
    const [a, reqA] = entries[0];
    const forged: UnmaskRequest = {
      ...reqA,
      signatures: reqA.signatures.map((s, i) => (i === 0 ? { ...s, signature: reqA.signatures[1].signature } : s)),
    };
    expect(() => run.clients.get(a)!.unmaskShares(forged)).toThrow(code('E_BAD_SIGNATURE'));
    const [b, reqB] = entries[1];
    expect(() => run.clients.get(b)!.unmaskShares({ ...reqB, signatures: reqB.signatures.slice(0, 3) })).toThrow(
      code('E_TOO_FEW_SURVIVORS'),
    );
    const [c, reqC] = entries[2];
    const dup = { ...reqC, signatures: [...reqC.signatures, reqC.signatures[0]] };
    expect(() => run.clients.get(c)!.unmaskShares(dup)).toThrow(code('E_REPLAY'));
  });

  it('a consistency request that omits the client itself is refused before it signs', async () => {
    const ids = makeIdentities(5, 'adv2');
    const config = makeConfig(ids, { threshold: 3, neighbours: 4, vectorLength: 4, label: 'adv2' });
    const run = await runRound(config, ids, randomInputs(ids, 4, 'adv2'), new Map(), { label: 'adv2', until: 3 });
    if (run.outcome.status !== 'next') throw new Error('expected the consistency stage');
    const [id, request] = [...run.outcome.messages][0];
    const survivors = (request as { survivors: string[] }).survivors.filter((s) => s !== id);
    expect(() => run.clients.get(id)!.consistencySignature({ ...request, survivors })).toThrow(
      code('E_INCONSISTENT_DROPS'),
    );
  });

  it('honest answers give the server one kind of share per client; t-1 extra key shares rebuild nothing', async () => {
    const { requests, run, victim, dropped } = await atUnmask(7, 6, 4);
    const replies = [...requests].map(([id, req]) => run.clients.get(id)!.unmaskShares(req));
    const kinds = new Map<string, Set<string>>();
    for (const r of replies)
      for (const s of r.shares) kinds.set(s.owner, (kinds.get(s.owner) ?? new Set()).add(s.kind));
    for (const [owner, set] of kinds) expect(set.size, owner).toBe(1);
    expect([...kinds.get(victim)!]).toEqual(['self-mask']);
    expect([...kinds.get(dropped)!]).toEqual(['secret-key']);

    // Colluders: t-1 = 3 shares of the dropped client's key reconstruct a wrong key (checked against its public key),
    // while t = 4 reconstruct the right one. The same bound protects a live client's key.
    const keyShares = replies.flatMap((r) => r.shares.filter((s) => s.owner === dropped).map((s) => s.share));
    const full = shamirCombine(keyShares.slice(0, 4)).subarray(0, 32);
    const partial = shamirCombine(keyShares.slice(0, 3)).subarray(0, 32);
    expect(x25519PublicKey(partial)).not.toEqual(x25519PublicKey(full));
    for (const r of replies) run.server.receive(r, 0);
    const done = await run.server.closeStage(1000, 2000);
    expect(done.status).toBe('done');
  });
});
