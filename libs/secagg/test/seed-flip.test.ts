/** The graph seed by commit-and-reveal (seed-flip.ts): agreement, each check, and its binding into SecAgg+. */
import { SECAGG_PROTOCOL_VERSION, type SeedCommitments, type SeedReveal } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import { signedSurvivors } from '../src/messages.js';
import {
  commitmentListHash,
  ed25519Verify,
  Ed25519Signer,
  seedBinding,
  graphSeedOf,
  SecAggClient,
  SeedFlipClient,
  SeedFlipServer,
  seedCommitment,
  signedSeedCommit,
  type AgreedSeed,
} from '../src/index.js';
import { makeConfig, makeIdentities, seededRandom, type Identity } from './harness.js';

const FED = 'fed-test';
const ROUND = 'round-1';
const N = 16;
const T = 9;

function setup(n = N, label = 'flip') {
  const ids = makeIdentities(n, label);
  const roster = ids.map((i) => ({ clientId: i.clientId, identityPublicKey: i.publicKey }));
  const params = { federationId: FED, roundId: ROUND, roster, threshold: T };
  const clients = ids.map(
    (i) =>
      new SeedFlipClient({
        ...params,
        clientId: i.clientId,
        identitySecretKey: i.secretKey,
        randomBytes: seededRandom(`${label}/${i.clientId}`),
      }),
  );
  return { ids, params, clients, server: new SeedFlipServer(params) };
}

/** Runs S1 and S2; `tamperList`/`tamperReveals` may change what one client is shown. */
function flip(
  s: ReturnType<typeof setup>,
  o: {
    tamperList?: (clientId: string, m: SeedCommitments) => unknown;
    tamperReveals?: (clientId: string, m: { reveals: SeedReveal[] }) => unknown;
  } = {},
) {
  for (const c of s.clients) s.server.receiveCommit(c.commit());
  const { message: list } = s.server.closeCommits();
  const reveals: SeedReveal[] = [];
  for (const c of s.clients) {
    const shown = o.tamperList ? o.tamperList(c.clientId, list) : list;
    const r = c.reveal(shown);
    reveals.push(r);
    s.server.receiveReveal(r);
  }
  const closed = s.server.closeReveals();
  const results = new Map<string, AgreedSeed | string>();
  for (const c of s.clients) {
    const shown = o.tamperReveals ? o.tamperReveals(c.clientId, closed.message) : closed.message;
    try {
      results.set(c.clientId, c.finish(shown));
    } catch (error) {
      results.set(c.clientId, (error as { code: string }).code);
    }
  }
  return { list, reveals, server: closed.seed, message: closed.message, results };
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('seed flip: agreement', () => {
  it('every member and the server derive one seed: the hash over the ordered reveals and H(C)', () => {
    const s = setup();
    const { list, reveals, server, results } = flip(s);
    const values = new Map(reveals.map((r) => [r.clientId, r.value]));
    const listHash = commitmentListHash(FED, ROUND, list.commitments);
    const expected = graphSeedOf(FED, ROUND, listHash, values);
    expect(server.graphSeed).toEqual(expected);
    expect(server.seedCommitmentsHash).toEqual(listHash);
    expect(server.committers).toHaveLength(N);
    for (const r of results.values()) {
      expect(typeof r).toBe('object');
      expect((r as AgreedSeed).graphSeed).toEqual(expected);
      expect((r as AgreedSeed).seedCommitmentsHash).toEqual(listHash);
    }
    // each commitment opens to its reveal, and the values are fresh (not all equal)
    for (const c of list.commitments) {
      expect(seedCommitment(FED, ROUND, c.clientId, values.get(c.clientId)!)).toEqual(c.commitment);
    }
    expect(new Set(reveals.map((r) => Buffer.from(r.value).toString('hex'))).size).toBe(N);
  });

  it('one member’s value alone changes the seed (no member, server included, fixes it)', () => {
    const s = setup();
    const { list, reveals, server } = flip(s);
    const listHash = commitmentListHash(FED, ROUND, list.commitments);
    const values = new Map(reveals.map((r) => [r.clientId, r.value]));
    const changed = new Map(values);
    const v = changed.get(s.ids[7].clientId)!.slice();
    v[0] ^= 1;
    changed.set(s.ids[7].clientId, v);
    expect(graphSeedOf(FED, ROUND, listHash, changed)).not.toEqual(server.graphSeed);
  });

  it('a member absent at S1 is left out and the rest agree (>= t committed)', () => {
    const s = setup();
    for (const c of s.clients.slice(1)) s.server.receiveCommit(c.commit());
    const { committers, message } = s.server.closeCommits();
    expect(committers).toHaveLength(N - 1);
    const r = s.clients.slice(1).map((c) => c.reveal(message));
    for (const x of r) s.server.receiveReveal(x);
    const { seed, message: reveals } = s.server.closeReveals();
    for (const c of s.clients.slice(1)) expect(c.finish(reveals).graphSeed).toEqual(seed.graphSeed);
  });

  it('fewer than t commitments: the server cannot open S2 (E_TOO_FEW_SURVIVORS)', () => {
    const s = setup();
    for (const c of s.clients.slice(0, T - 1)) s.server.receiveCommit(c.commit());
    expect(codeOf(() => s.server.closeCommits())).toBe('E_TOO_FEW_SURVIVORS');
  });
});

describe('seed flip: a server that tries to choose the seed is caught', () => {
  it('a substituted reveal: the member refuses with E_SEED_REVEAL_MISMATCH, and so does the server', () => {
    const s = setup();
    const { results } = flip(s, {
      tamperReveals: (id, m) =>
        id === s.ids[0].clientId
          ? { ...m, reveals: m.reveals.map((r, i) => (i === 3 ? { ...r, value: new Uint8Array(32).fill(7) } : r)) }
          : m,
    });
    expect(results.get(s.ids[0].clientId)).toBe('E_SEED_REVEAL_MISMATCH');
    expect(typeof results.get(s.ids[1].clientId)).toBe('object');
    const s2 = setup(N, 'flip-2');
    for (const c of s2.clients) s2.server.receiveCommit(c.commit());
    const { message } = s2.server.closeCommits();
    const r = s2.clients[0].reveal(message);
    expect(codeOf(() => s2.server.receiveReveal({ ...r, value: new Uint8Array(32) }))).toBe('E_SEED_REVEAL_MISMATCH');
  });

  it('this member’s own value replaced: E_SEED_REVEAL_MISMATCH', () => {
    const s = setup();
    const me = s.ids[2].clientId;
    const { results } = flip(s, {
      tamperReveals: (id, m) =>
        id === me
          ? {
              ...m,
              reveals: m.reveals.map((r) => (r.clientId === me ? { ...r, value: new Uint8Array(32).fill(1) } : r)),
            }
          : m,
    });
    expect(results.get(me)).toBe('E_SEED_REVEAL_MISMATCH');
  });

  it('a withheld reveal aborts: every member refuses with E_SEED_REVEAL_MISSING, the server cannot close', () => {
    const s = setup();
    for (const c of s.clients) s.server.receiveCommit(c.commit());
    const { message } = s.server.closeCommits();
    const reveals = s.clients.map((c) => c.reveal(message));
    for (const r of reveals.slice(1)) s.server.receiveReveal(r);
    expect(codeOf(() => s.server.closeReveals())).toBe('E_SEED_REVEAL_MISSING');
    const shown = {
      version: SECAGG_PROTOCOL_VERSION,
      federationId: FED,
      roundId: ROUND,
      stage: 'seed-reveals',
      reveals: reveals.slice(1),
    };
    for (const c of s.clients) expect(codeOf(() => c.finish(shown))).toBe('E_SEED_REVEAL_MISSING');
    // an aborted member never answers again in this round
    expect(codeOf(() => s.clients[3].finish(shown))).toBe('E_ABORTED');
  });

  it('the list omits or alters this member’s commitment: E_SEED_COMMITMENT; a forged one: E_BAD_SIGNATURE', () => {
    const s = setup();
    for (const c of s.clients) s.server.receiveCommit(c.commit());
    const { message } = s.server.closeCommits();
    const without = { ...message, commitments: message.commitments.slice(1) };
    expect(codeOf(() => s.clients[0].reveal(without))).toBe('E_SEED_COMMITMENT');
    const serverKey = new Ed25519Signer(new Uint8Array(32).fill(5));
    const victim = message.commitments[5];
    const commitment = seedCommitment(FED, ROUND, victim.clientId, new Uint8Array(32).fill(9));
    const forged = {
      ...message,
      commitments: message.commitments.map((c, i) =>
        i === 5
          ? { ...c, commitment, signature: serverKey.sign(signedSeedCommit(FED, ROUND, c.clientId, commitment)) }
          : c,
      ),
    };
    expect(codeOf(() => s.clients[1].reveal(forged))).toBe('E_BAD_SIGNATURE');
    const twice = { ...message, commitments: [...message.commitments, message.commitments[4]] };
    expect(codeOf(() => s.clients[2].reveal(twice))).toBe('E_REPLAY');
    const otherRound = { ...message, roundId: 'round-2' };
    expect(codeOf(() => s.clients[3].reveal(otherRound))).toBe('E_WRONG_ROUND');
  });
});

describe('seed flip: the seed and H(C) bind the SecAgg+ signatures', () => {
  function secaggClient(ids: Identity[], who: number, seed: AgreedSeed) {
    const config = {
      ...makeConfig(ids, { threshold: T, neighbours: N - 1, vectorLength: 4 }),
      graphSeed: seed.graphSeed,
      seedCommitmentsHash: seed.seedCommitmentsHash,
    };
    return new SecAggClient({
      config,
      clientId: ids[who].clientId,
      identitySecretKey: ids[who].secretKey,
      randomBytes: seededRandom(`sa/${who}`),
    });
  }

  it('members shown different commitment lists reject each other’s advertisements (E_BAD_SIGNATURE)', () => {
    const s = setup();
    const dropped = s.ids[15].clientId;
    // the server shows members 0-7 the list without member 15 and the others the full list
    const { results, list } = flip(s, {
      tamperList: (id, m) =>
        s.ids.findIndex((i) => i.clientId === id) < 8
          ? { ...m, commitments: m.commitments.filter((c) => c.clientId !== dropped) }
          : m,
      tamperReveals: (id, m) =>
        s.ids.findIndex((i) => i.clientId === id) < 8
          ? { ...m, reveals: m.reveals.filter((r) => r.clientId !== dropped) }
          : m,
    });
    const a = results.get(s.ids[0].clientId) as AgreedSeed;
    const b = results.get(s.ids[8].clientId) as AgreedSeed;
    expect(typeof a).toBe('object');
    expect(typeof b).toBe('object');
    expect(a.graphSeed).not.toEqual(b.graphSeed);
    expect(list.commitments).toHaveLength(N);
    const clientA = secaggClient(s.ids, 0, a);
    const clientB = secaggClient(s.ids, 8, b);
    const adA = clientA.advertiseKeys();
    const adB = clientB.advertiseKeys();
    const roster = { version: SECAGG_PROTOCOL_VERSION, federationId: FED, roundId: ROUND, stage: 'key-roster' };
    // complete graph: every other member is a neighbour, listed absent here
    const absent = s.ids.map((i) => i.clientId).filter((id) => id !== adA.clientId && id !== adB.clientId);
    expect(codeOf(() => clientB.shareKeys({ ...roster, advertisements: [adA, adB], absent: absent.sort() }))).toBe(
      'E_BAD_SIGNATURE',
    );
  });

  it('a consistency signature made under one (seed, H(C)) does not verify under another', () => {
    const [me] = makeIdentities(1, 'consistency');
    const signer = new Ed25519Signer(me.secretKey);
    const a = { graphSeed: new Uint8Array(32).fill(1), seedCommitmentsHash: new Uint8Array(32).fill(2) };
    const survivors = ['site-000', 'site-001', 'site-002'];
    const signature = signer.sign(signedSurvivors(FED, ROUND, survivors, seedBinding(a)));
    expect(ed25519Verify(me.publicKey, signedSurvivors(FED, ROUND, survivors, seedBinding(a)), signature)).toBe(true);
    for (const b of [
      { ...a, seedCommitmentsHash: new Uint8Array(32).fill(3) },
      { ...a, graphSeed: new Uint8Array(32).fill(3) },
    ]) {
      expect(ed25519Verify(me.publicKey, signedSurvivors(FED, ROUND, survivors, seedBinding(b)), signature)).toBe(
        false,
      );
    }
  });
});
