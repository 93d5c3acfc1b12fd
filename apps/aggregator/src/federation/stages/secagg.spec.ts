import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parameterCount } from '@concord/native/spec';
import { ed25519PublicKeyFromSeed, secAggConfigOf, type RosterMember } from '@concord/protocol';
import { SecAggClient, SeedFlipClient } from '@concord/secagg';
import { FederationSettingsSchema } from '../settings.js';
import { buildPlan } from '../plan-builder.js';
import { collectMaskedInputs, unmask } from './secagg.js';
import { fakeConnections, fakeContext, settings as localSettings } from './test-fakes.js';

const sites = ['site-a', 'site-b', 'site-c', 'site-d'];

/** Four real SecAgg+ clients behind fake sockets; `site-d` never answers the masked-input request. */
function setup() {
  const settings = FederationSettingsSchema.parse({
    ...localSettings,
    privacy: { mode: 'none', batchSize: 8, steps: 1 },
  });
  const seeds = new Map(sites.map((id) => [id, new Uint8Array(randomBytes(32))]));
  const roster: RosterMember[] = sites.map((siteId) => ({
    siteId,
    identityPublicKey: ed25519PublicKeyFromSeed(seeds.get(siteId)!),
    lastReceipt: null,
  }));
  const ctx = { ...fakeContext(sites), settings, roster };
  const plan = buildPlan({
    settings,
    federationId: ctx.federationId,
    roundId: ctx.round.id,
    roundNumber: 1,
    roster,
    parameterCount: parameterCount(settings.model),
    modelSha256: '0'.repeat(64),
    now: new Date(),
  });
  const inputs = new Map(
    sites.map((id, i) => [id, Uint32Array.from({ length: plan.secagg.vectorLength }, (_, j) => (i + 1) * 1000 + j)]),
  );
  const randomSource = (n: number) => new Uint8Array(randomBytes(n));
  const flips = new Map(
    sites.map((id) => [
      id,
      new SeedFlipClient({
        ...secAggConfigOf(plan),
        clientId: id,
        identitySecretKey: seeds.get(id)!,
        randomBytes: randomSource,
      }),
    ]),
  );
  const clients = new Map<string, SecAggClient>();
  const graphSeeds = new Set<string>();
  const log: string[] = [];
  const connections = fakeConnections(log, (siteId, event, payload) => {
    const flip = flips.get(siteId)!;
    if (event === 'secagg:seed-commit') return flip.commit();
    if (event === 'secagg:seed-reveal') return flip.reveal(payload);
    if (event === 'secagg:advertise') {
      const { graphSeed, seedCommitmentsHash } = flip.finish(payload);
      graphSeeds.add(Buffer.from(graphSeed).toString('hex'));
      const config = { ...secAggConfigOf(plan), graphSeed, seedCommitmentsHash };
      const client = new SecAggClient({
        config,
        clientId: siteId,
        identitySecretKey: seeds.get(siteId)!,
        randomBytes: randomSource,
      });
      clients.set(siteId, client);
      return client.advertiseKeys();
    }
    const client = clients.get(siteId)!;
    if (event === 'secagg:key-roster') return client.shareKeys(payload);
    if (event === 'secagg:share-route') {
      if (siteId === 'site-d') return 'hang';
      return client.maskedInput(payload, inputs.get(siteId)!).then((masked) => ({ ok: true, masked }));
    }
    if (event === 'secagg:consistency') return client.consistencySignature(payload);
    if (event === 'secagg:unmask') return client.unmaskShares(payload);
    throw new Error(`unexpected ${event}`);
  });
  const states: string[] = [];
  const rounds = {
    setState: async (_id: string, state: string) => void states.push(state),
    setParticipant: async (_id: string, ids: readonly string[], patch: { stage?: string }) =>
      void states.push(`${patch.stage} ${[...ids].sort().join(',')}`),
  };
  return { ctx, plan, inputs, connections, rounds, log, states, graphSeeds };
}

describe('SecAgg+ stages over the one request path', () => {
  it('draws the seed (S1-S2), runs stages 0-3 with real clients, records a silent site as E_TIMEOUT, stops before unmasking', async () => {
    const { ctx, plan, inputs, connections, rounds, log, states, graphSeeds } = setup();
    const masked = await collectMaskedInputs({ rounds, connections }, ctx, plan, sites, [], () => {});
    expect(graphSeeds.size).toBe(1); // every site derived the one seed the server uses
    expect(log.filter((l) => l.startsWith('request secagg:seed-'))).toHaveLength(2 * sites.length);
    expect(masked.survivors).toEqual(['site-a', 'site-b', 'site-c']);
    expect(masked.session.drops).toEqual([expect.objectContaining({ siteId: 'site-d', code: 'E_TIMEOUT' })]);
    expect(masked.outcome.status).toBe('next');
    expect(states).toEqual(['training', 'update_received site-a,site-b,site-c']);
    expect(log.some((l) => l.startsWith('request secagg:unmask'))).toBe(false); // the charge comes first

    const { sum, survivors } = await unmask(masked.session, masked.outcome, ctx.settings.timeouts.stageMs);
    expect(survivors).toEqual(['site-a', 'site-b', 'site-c']);
    const expected = new Uint32Array(plan.secagg.vectorLength);
    for (const id of survivors) for (let j = 0; j < expected.length; j++) expected[j] += inputs.get(id)![j];
    expect([...sum]).toEqual([...expected]); // the masks cancel; the dropped site's pairwise masks are removed
  });
});
