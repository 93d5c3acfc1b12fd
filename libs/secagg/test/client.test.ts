import type { KeyRoster, ShareRoute, UnmaskRequest, UnmaskShares } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import { Ed25519Signer, SecAggClient, SecAggServer, seedBinding } from '../src/index.js';
import { signedAdvertise, signedShareKeys, signedUnmask } from '../src/messages.js';
import { makeConfig, makeIdentities, randomInputs, runRound, seededRandom } from './harness.js';

const code = (code: string) => expect.objectContaining({ code });

describe('SecAggClient checks what the server sends', () => {
  it('refuses a roster from another round, a forged advertisement and a roster without its own keys', async () => {
    const ids = makeIdentities(5, 'cl');
    const config = makeConfig(ids, { threshold: 3, neighbours: 4, vectorLength: 4, label: 'cl' });
    const run = await runRound(config, ids, randomInputs(ids, 4, 'cl'), new Map(), { label: 'cl', until: 1 });
    if (run.outcome.status !== 'next') throw new Error('expected the share-keys stage');
    const [a, b, c] = [...run.outcome.messages] as [string, KeyRoster][];
    expect(() => run.clients.get(a[0])!.shareKeys({ ...a[1], roundId: 'round-0' })).toThrow(code('E_WRONG_ROUND'));
    const forged = b[1].advertisements.map((ad, i) =>
      i === 1 ? { ...ad, maskingPublicKey: b[1].advertisements[2].maskingPublicKey } : ad,
    );
    expect(() => run.clients.get(b[0])!.shareKeys({ ...b[1], advertisements: forged })).toThrow(
      code('E_BAD_SIGNATURE'),
    );
    const withoutSelf = c[1].advertisements.filter((ad) => ad.clientId !== c[0]);
    const selfAbsent = { ...c[1], advertisements: withoutSelf, absent: [...c[1].absent, c[0]].sort() };
    expect(() => run.clients.get(c[0])!.shareKeys(selfAbsent)).toThrow(code('E_BAD_MESSAGE'));
    const [d, rosterD] = [...run.outcome.messages][3] as [string, KeyRoster];
    const twice = [...rosterD.advertisements, rosterD.advertisements[0]];
    expect(() => run.clients.get(d)!.shareKeys({ ...rosterD, advertisements: twice })).toThrow(code('E_REPLAY'));
  });

  it('refuses a tampered share bundle, a bundle rerouted to another holder and a duplicated bundle', async () => {
    const ids = makeIdentities(5, 'cl2');
    const config = makeConfig(ids, { threshold: 3, neighbours: 4, vectorLength: 4, label: 'cl2' });
    const run = await runRound(config, ids, randomInputs(ids, 4, 'cl2'), new Map(), { label: 'cl2', until: 2 });
    if (run.outcome.status !== 'next') throw new Error('expected the masked-input stage');
    const routes = [...run.outcome.messages] as [string, ShareRoute][];
    const input = new Uint32Array(4);
    const [a, routeA] = routes[0];
    const tampered = routeA.shares.map((s, i) => {
      if (i !== 1) return s;
      const ciphertext = s.ciphertext.slice();
      ciphertext[5] ^= 1;
      return { ...s, ciphertext };
    });
    await expect(run.clients.get(a)!.maskedInput({ ...routeA, shares: tampered }, input)).rejects.toThrow(
      code('E_DECRYPT_FAILED'),
    );
    // a bundle meant for client B, relabelled as addressed to C: C cannot open it (the key binds the pair)
    const [b, routeB] = routes[1];
    const [cId, routeC] = routes[2];
    const stolen = routeB.shares.find((s) => s.from !== b && s.from !== cId)!;
    const swapped = routeC.shares.map((s) => (s.from === stolen.from ? { ...stolen, to: cId } : s));
    await expect(run.clients.get(cId)!.maskedInput({ ...routeC, shares: swapped }, input)).rejects.toThrow(
      code('E_DECRYPT_FAILED'),
    );
    const [dId, routeD] = routes[3];
    await expect(
      run.clients.get(dId)!.maskedInput({ ...routeD, shares: [...routeD.shares, routeD.shares[0]] }, input),
    ).rejects.toThrow(code('E_REPLAY'));
    expect(run.clients.get(dId)!.currentStage).toBe('aborted');
  });

  it('refuses an identity key that does not match the roster', () => {
    const ids = makeIdentities(3, 'cl3');
    const config = makeConfig(ids, { threshold: 2, neighbours: 2, vectorLength: 4, label: 'cl3' });
    expect(
      () =>
        new SecAggClient({
          config,
          clientId: ids[0].clientId,
          identitySecretKey: ids[1].secretKey,
          randomBytes: seededRandom(1),
        }),
    ).toThrow(/identitySecretKey/);
    expect(
      () =>
        new SecAggClient({
          config,
          clientId: 'nobody',
          identitySecretKey: ids[0].secretKey,
          randomBytes: seededRandom(1),
        }),
    ).toThrow(/roster/);
  });
});

describe('SecAggServer checks what clients send (a malicious client signs whatever it likes)', () => {
  it('refuses a validly signed share-keys message that skips a neighbour', async () => {
    const ids = makeIdentities(5, 'sv');
    const config = makeConfig(ids, { threshold: 3, neighbours: 4, vectorLength: 4, label: 'sv' });
    const run = await runRound(config, ids, randomInputs(ids, 4, 'sv'), new Map(), { label: 'sv', until: 1 });
    if (run.outcome.status !== 'next') throw new Error('expected the share-keys stage');
    const [id, roster] = [...run.outcome.messages][0];
    const honest = run.clients.get(id)!.shareKeys(roster);
    const shares = honest.shares.slice(0, -1);
    const signer = new Ed25519Signer(ids.find((i) => i.clientId === id)!.secretKey);
    const resigned = {
      ...honest,
      shares,
      signature: signer.sign(signedShareKeys(config.federationId, config.roundId, id, shares)),
    };
    expect(() => run.server.receive(resigned, 0)).toThrow(code('E_BAD_MESSAGE'));
    run.server.receive(honest, 0);
  });

  it('refuses a validly signed unmask reply that asks to reveal the wrong kind of share, and replays', async () => {
    const ids = makeIdentities(5, 'sv2');
    const config = makeConfig(ids, { threshold: 3, neighbours: 4, vectorLength: 4, label: 'sv2' });
    const run = await runRound(config, ids, randomInputs(ids, 4, 'sv2'), new Map([[ids[4].clientId, 2]]), {
      label: 'sv2',
      until: 4,
    });
    if (run.outcome.status !== 'next') throw new Error('expected the unmask stage');
    const [id, request] = [...run.outcome.messages][0];
    const reply = run.clients.get(id)!.unmaskShares(request) as UnmaskShares;
    const shares = reply.shares.map((s, i) => (i === 0 ? { ...s, kind: 'secret-key' as const } : s));
    const signer = new Ed25519Signer(ids.find((i) => i.clientId === id)!.secretKey);
    const flipped = {
      ...reply,
      shares,
      signature: signer.sign(signedUnmask(config.federationId, config.roundId, id, shares)),
    };
    expect(() => run.server.receive(flipped, 0)).toThrow(code('E_INCONSISTENT_DROPS'));
    expect(() => run.server.receive({ ...reply, signature: flipped.signature }, 0)).toThrow(code('E_BAD_SIGNATURE'));
    run.server.receive(reply, 0);
    expect(() => run.server.receive(reply, 0)).toThrow(code('E_REPLAY'));
  });
});

describe('SecAgg+ messages carry the receiver’s neighbourhood only (Bell et al.), and the client checks it', () => {
  // n = 9, k = 4: each client has 4 neighbours and 4 clients it never hears of
  const setup = async (label: string, until: number, drops = new Map<string, number>()) => {
    const ids = makeIdentities(9, label);
    const config = makeConfig(ids, { threshold: 3, neighbours: 4, vectorLength: 4, label });
    const run = await runRound(config, ids, randomInputs(ids, 4, label), drops, { label, until });
    if (run.outcome.status !== 'next') throw new Error(`expected stage ${until}`);
    return { ids, config, run };
  };

  it('each key roster is exactly the receiver and its neighbours; one that is not is refused with a code', async () => {
    const { ids, config, run } = await setup('nb', 1);
    const rosters = [...run.outcome.messages] as [string, KeyRoster][];
    for (const [id, roster] of rosters) {
      expect(roster.advertisements.map((a) => a.clientId)).toEqual(run.server.plan.holdersOf.get(id));
      expect(roster.absent).toEqual([]);
    }
    const [a, rosterA] = rosters[0];
    const holdersA = run.server.plan.holdersOf.get(a)!;
    const outsider = ids.find((i) => !holdersA.includes(i.clientId))!.clientId;
    const outsiderAd = rosters.find(([id]) => id === outsider)![1].advertisements.find((x) => x.clientId === outsider)!;
    const withOutsider = [...rosterA.advertisements, outsiderAd].sort((x, y) => (x.clientId < y.clientId ? -1 : 1));
    const fresh = (i: number) =>
      new SecAggClient({
        config,
        clientId: a,
        identitySecretKey: ids.find((x) => x.clientId === a)!.secretKey,
        randomBytes: seededRandom(`fresh/${i}`),
      });
    // each refusal needs a client at the share-keys stage whose own advertisement is in the roster
    const withOwn = (client: SecAggClient, roster: KeyRoster): KeyRoster => {
      const own = client.advertiseKeys();
      return { ...roster, advertisements: roster.advertisements.map((x) => (x.clientId === a ? own : x)) };
    };
    let c = fresh(1);
    expect(() => c.shareKeys(withOwn(c, { ...rosterA, advertisements: withOutsider }))).toThrow(
      code('E_NOT_NEIGHBOUR'),
    );
    c = fresh(2);
    const neighbour = holdersA.find((h) => h !== a)!;
    const omitted = rosterA.advertisements.filter((x) => x.clientId !== neighbour);
    expect(() => c.shareKeys(withOwn(c, { ...rosterA, advertisements: omitted }))).toThrow(code('E_NEIGHBOUR_MISSING'));
    // the same neighbour listed absent is an honest dropout: accepted
    c = fresh(3);
    expect(c.shareKeys(withOwn(c, { ...rosterA, advertisements: omitted, absent: [neighbour] })).shares).toHaveLength(
      4,
    );
    c = fresh(4);
    expect(() => c.shareKeys(withOwn(c, { ...rosterA, absent: [outsider] }))).toThrow(code('E_NOT_NEIGHBOUR'));
    c = fresh(5);
    expect(() => c.shareKeys(withOwn(c, { ...rosterA, absent: [neighbour] }))).toThrow(code('E_BAD_MESSAGE'));
  });

  it('a neighbour’s advertisement with a low-order X25519 key is refused by the server and by the client', async () => {
    const { ids, config, run } = await setup('lo', 1);
    const [a, rosterA] = [...run.outcome.messages][0] as [string, KeyRoster];
    const neighbour = run.server.plan.holdersOf.get(a)!.find((h) => h !== a)!;
    const signer = new Ed25519Signer(ids.find((i) => i.clientId === neighbour)!.secretKey);
    const lowOrder = new Uint8Array(32);
    lowOrder[0] = 1; // u = 1, a point of order 4 (RFC 7748 section 6.1's low-order points)
    const ad = rosterA.advertisements.find((x) => x.clientId === neighbour)!;
    const forged = {
      ...ad,
      maskingPublicKey: lowOrder,
      signature: signer.sign(
        signedAdvertise(
          config.federationId,
          config.roundId,
          neighbour,
          ad.encryptionPublicKey,
          lowOrder,
          seedBinding(config),
        ),
      ),
    };
    const advertisements = rosterA.advertisements.map((x) => (x.clientId === neighbour ? forged : x));
    expect(() => run.clients.get(a)!.shareKeys({ ...rosterA, advertisements })).toThrow(code('E_KEY_LOW_ORDER'));
    const server = new SecAggServer({ config, deadline: Date.now() + 60_000 });
    expect(() => server.receive(forged, Date.now())).toThrow(code('E_KEY_LOW_ORDER'));
  });

  it('unmask requests carry the neighbourhood’s signatures and dropouts; a signer or dropout outside it is refused', async () => {
    const ids = makeIdentities(9, 'um');
    const dropped = ids[8].clientId; // shares its keys, then never sends its masked input: in U2 \ U3
    const { run } = await setup('um', 4, new Map([[dropped, 2]]));
    const requests = [...run.outcome.messages] as [string, UnmaskRequest][];
    for (const [id, request] of requests) {
      const holders = run.server.plan.holdersOf.get(id)!;
      expect(request.signatures.map((s) => s.clientId)).toEqual(holders.filter((h) => h !== dropped));
      expect(request.dropped).toEqual(holders.includes(dropped) ? [dropped] : []);
    }
    const [a, requestA] = requests[0];
    const holdersA = run.server.plan.holdersOf.get(a)!;
    const outsider = requests.find(([id]) => !holdersA.includes(id))!;
    const outsiderSignature = outsider[1].signatures.find((s) => s.clientId === outsider[0])!;
    const signatures = [outsiderSignature, ...requestA.signatures].sort((x, y) => (x.clientId < y.clientId ? -1 : 1));
    expect(() => run.clients.get(a)!.unmaskShares({ ...requestA, signatures })).toThrow(code('E_NOT_NEIGHBOUR'));
    const [b, requestB] = requests.find(([id]) => !run.server.plan.holdersOf.get(id)!.includes(dropped))!;
    expect(() => run.clients.get(b)!.unmaskShares({ ...requestB, dropped: [dropped] })).toThrow(
      code('E_NOT_NEIGHBOUR'),
    );
  });
});
