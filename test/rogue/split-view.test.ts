/**
 * The split-view attack on SecAgg+ (issue 15, finding 3; docs/threat-model.md "The collusion bound"): an active
 * server and c colluding clients show the target u as a survivor to one group of honest holders (who then reveal
 * shares of u's self-mask seed b_u) and as dropped to another (who reveal shares of u's masking key s_u); the
 * colluders sign both survivor lists, so each list can carry t valid signatures. With both secrets the server
 * strips every mask from u's masked input and reads u's input alone.
 *
 * Real SecAgg+ clients (libs/secagg) with the default shape for 10 sites and c = 1 (k = 9, t = 6, so
 * 2t-(k+1) = 2): with c = 1 colluder the attack fails whichever way the honest holders are split (one group
 * lacks t signatures and refuses to unmask); with c = 2t-(k+1) = 2 it succeeds (the documented limit).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  collusionSafeShape,
  ed25519PublicKeyBase64,
  SECAGG_PROTOCOL_VERSION,
  type UnmaskShares,
} from '@concord/protocol';
import {
  applyMasks,
  derivePairKey,
  Ed25519Signer,
  nodeMaskExpander,
  pairSign,
  SecAggClient,
  seedBinding,
  SecAggServer,
  shamirCombine,
  X25519Secret,
} from '@concord/secagg';
import { signedSurvivors } from '../../libs/secagg/src/messages.js';

const FED = 'split-view';
const D = 8;

interface Outcome {
  /** the server rebuilt the target's input exactly */
  recovered: boolean;
  /** codes of the honest clients that refused to unmask */
  refusals: string[];
  selfMaskShares: number;
  secretKeyShares: number;
}

/**
 * Runs one round of 10 real clients with `colluders` colluding clients and `inA` honest holders (besides the
 * target) shown the target as a survivor; the other honest holders are shown it as dropped.
 */
async function splitView(colluders: number, inA: number): Promise<Outcome> {
  const n = 10;
  const shape = collusionSafeShape(n, 1);
  expect(shape).toEqual({ neighbours: 9, threshold: 6 });
  const t = shape.threshold;
  const roundId = `r-${randomBytes(4).toString('hex')}`;
  const seeds = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
  const ids = seeds.map((_, i) => `c${i}`);
  const config = {
    federationId: FED,
    roundId,
    roster: ids.map((clientId, i) => ({
      clientId,
      identityPublicKey: new Uint8Array(Buffer.from(ed25519PublicKeyBase64(seeds[i]), 'base64')),
    })),
    threshold: t,
    neighbours: shape.neighbours,
    vectorLength: D,
    graphSeed: new Uint8Array(randomBytes(32)),
  };
  const clients = ids.map(
    (clientId, i) =>
      new SecAggClient({
        config,
        clientId,
        identitySecretKey: seeds[i],
        randomBytes: (k) => new Uint8Array(randomBytes(k)),
        maskExpander: nodeMaskExpander,
      }),
  );
  const inputs = ids.map(() => new Uint32Array(randomBytes(4 * D).buffer));
  const server = new SecAggServer({ config, deadline: Date.now() + 60_000, maskExpander: nodeMaskExpander });
  const target = 'c0';
  const colluding = ids.slice(1, 1 + colluders);
  const honest = ids.slice(1 + colluders);
  const groupA = [target, ...honest.slice(0, inA)];
  const groupB = honest.slice(inA);

  // Stages 0-2, honestly: every client advertises, shares its keys and sends its masked input.
  const maskingKeys = new Map<string, Uint8Array>();
  for (const c of clients) {
    const ad = c.advertiseKeys();
    maskingKeys.set(c.clientId, ad.maskingPublicKey);
    server.receive(ad, Date.now());
  }
  let out = await server.closeStage(Date.now(), Date.now() + 60_000);
  for (const c of clients)
    server.receive(c.shareKeys(out.status === 'next' && out.messages.get(c.clientId)), Date.now());
  out = await server.closeStage(Date.now(), Date.now() + 60_000);
  let targetMasked: Uint8Array | undefined;
  for (const [i, c] of clients.entries()) {
    const m = await c.maskedInput(out.status === 'next' && out.messages.get(c.clientId), inputs[i]);
    if (c.clientId === target) targetMasked = m.maskedInput;
  }

  // The split view. Every honest client signs the list it is shown; the colluders' keys sign both lists.
  const listA = [...ids].sort();
  const listB = ids.filter((id) => id !== target).sort();
  const header = { version: SECAGG_PROTOCOL_VERSION, federationId: FED, roundId };
  const signatures = (list: string[], signers: string[]) =>
    signers.map((clientId) => ({
      clientId,
      signature: new Ed25519Signer(seeds[ids.indexOf(clientId)]).sign(
        signedSurvivors(FED, roundId, list, seedBinding(config)),
      ),
    }));
  const byId = new Map(clients.map((c) => [c.clientId, c]));
  for (const id of groupA)
    byId.get(id)!.consistencySignature({ ...header, stage: 'consistency-request', survivors: listA });
  for (const id of groupB)
    byId.get(id)!.consistencySignature({ ...header, stage: 'consistency-request', survivors: listB });
  const sigA = signatures(listA, [...groupA, ...colluding]);
  const sigB = signatures(listB, [...groupB, ...colluding]);

  // What the colluders hold of the target (they hand the server both kinds of share).
  const colluderShares = colluding.map((id) =>
    (
      byId.get(id) as unknown as { held: Map<string, { selfMaskShare: Uint8Array; secretKeyShare: Uint8Array }> }
    ).held.get(target)!,
  );
  const selfMask: Uint8Array[] = colluderShares.map((h) => h.selfMaskShare.slice());
  const secretKey: Uint8Array[] = colluderShares.map((h) => h.secretKeyShare.slice());
  const refusals: string[] = [];
  // each holder checks the signatures against the survivor list it signed (A or B), not one the request carries
  const unmask = (id: string, dropped: string[], sigs: typeof sigA): UnmaskShares | undefined => {
    try {
      return byId.get(id)!.unmaskShares({ ...header, stage: 'unmask-request', dropped, signatures: sigs });
    } catch (error) {
      refusals.push((error as { code: string }).code);
      return undefined;
    }
  };
  for (const id of groupA) {
    for (const s of unmask(id, [], sigA)?.shares ?? []) if (s.owner === target) selfMask.push(s.share);
  }
  for (const id of groupB) {
    for (const s of unmask(id, [target], sigB)?.shares ?? []) if (s.owner === target) secretKey.push(s.share);
  }

  let recovered = false;
  if (selfMask.length >= t && secretKey.length >= t) {
    const b = shamirCombine(selfMask.slice(0, t));
    const sk = shamirCombine(secretKey.slice(0, t));
    const masking = new X25519Secret(sk);
    const words = new Uint32Array(new Uint8Array(targetMasked!).buffer.slice(0));
    const jobs = [{ seed: b, sign: -1 as const }];
    for (const v of ids) {
      if (v === target) continue;
      const secret = masking.agree(maskingKeys.get(v)!);
      const seed = derivePairKey(secret, 'pairwise-mask', FED, roundId, target, v);
      jobs.push({ seed, sign: -pairSign(target, v) as 1 | -1 });
    }
    await applyMasks(words, jobs, nodeMaskExpander);
    recovered = words.every((w, i) => w === inputs[0][i]);
  }
  for (const c of clients) c.abort();
  return { recovered, refusals, selfMaskShares: selfMask.length, secretKeyShares: secretKey.length };
}

describe('split view against SecAgg+ with k = 9, t = 6 (n = 10, declared c = 1)', () => {
  it('c = 1 colluder: fails however the 8 honest holders are split (a group lacks t signatures and refuses)', async () => {
    const t = 6;
    // inA honest holders besides the target see it survive, the other 8 - inA see it dropped (at least one)
    for (let inA = 0; inA < 8; inA++) {
      const outcome = await splitView(1, inA);
      expect(outcome.recovered).toBe(false);
      expect(outcome.selfMaskShares < t || outcome.secretKeyShares < t).toBe(true);
      expect(outcome.refusals.length).toBeGreaterThan(0);
      expect(new Set(outcome.refusals)).toEqual(new Set(['E_TOO_FEW_SURVIVORS']));
    }
  });

  it('c = 2t-(k+1) = 2 colluders: the documented limit, the server recovers the target input exactly', async () => {
    // the target and 3 honest holders see "survived" (4 + 2 colluders = t signatures and self-mask shares),
    // 4 honest holders see "dropped" (4 + 2 = t signatures and key shares)
    const outcome = await splitView(2, 3);
    expect(outcome.refusals).toEqual([]);
    expect(outcome.selfMaskShares).toBeGreaterThanOrEqual(6);
    expect(outcome.secretKeyShares).toBeGreaterThanOrEqual(6);
    expect(outcome.recovered).toBe(true);
  });
});
