/**
 * A rogue aggregator against the SecAgg+ key roster (issue 20: each site receives only its neighbourhood's keys).
 * The agent recomputes its neighbours from the graph seed it drew with the cohort, so a roster that names a
 * non-neighbour, or leaves a neighbour out (neither its advertisement nor listed absent), is refused with a code;
 * and a neighbour's advertised X25519 key of low order (a colluding site signs it, so the signature verifies) is
 * refused as keys are at enrollment (issue 16). The refusing site sends no masked input and is never charged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AdvertiseKeys, KeyRoster } from '@concord/protocol';
import { Ed25519Signer, planRound, seedBinding, type SecAggConfig } from '@concord/secagg';
import { signedAdvertise } from '../../libs/secagg/src/messages.js';
import { DISTRIBUTED_TERMS, RogueAggregator, type RogueSite } from './harness.js';

const N = 16; // k = 10 < n - 1: every site has 5 clients it never hears of
let rogue: RogueAggregator | undefined;
afterEach(() => rogue?.close());

const replyTo = (site: RogueSite, event: string) => site.replies.filter((x) => x.event === event).at(-1)?.reply;

/**
 * Runs one round where `edit` rewrites the target's key roster (given the round's config and every advertisement
 * sent); returns the target's answer to it, and checks the target sent no masked input and its ledger is unchanged.
 */
async function rosterAttack(
  edit: (roster: KeyRoster, config: SecAggConfig, all: Map<string, AdvertiseKeys>, target: string) => KeyRoster,
): Promise<unknown> {
  rogue = new RogueAggregator(N, DISTRIBUTED_TERMS);
  const plan = rogue.validPlan();
  for (const s of rogue.sites) expect(await rogue.ask(s, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
  const target = rogue.sites[0];
  const ledgerBefore = rogue.ledgerBytes(target);
  await rogue.runRound(plan, rogue.sites, (stage, id, m, round) => {
    if (stage !== 'key-roster' || id !== target.siteId) return m;
    const all = new Map(rogue!.sites.map((s) => [s.siteId, replyTo(s, 'secagg:advertise') as AdvertiseKeys] as const));
    return edit(m as KeyRoster, round!.config, all, id);
  });
  expect(rogue.ledgerBytes(target)).toBe(ledgerBefore);
  const sent = target.replies.some(
    (x) => x.event === 'secagg:share-route' && (x.reply as { ok?: unknown }).ok === true,
  );
  expect(sent).toBe(false);
  return replyTo(target, 'secagg:key-roster');
}

const byId = (a: AdvertiseKeys, b: AdvertiseKeys) => (a.clientId < b.clientId ? -1 : 1);

describe('rogue aggregator: the neighbourhood key roster (cohort of 16, k = 10)', () => {
  it('an honest round sends each site exactly its neighbourhood and releases the sum', async () => {
    rogue = new RogueAggregator(N, DISTRIBUTED_TERMS);
    const plan = rogue.validPlan();
    for (const s of rogue.sites) expect(await rogue.ask(s, 'round:plan', rogue.sign(plan))).toEqual({ ok: true });
    const sizes: number[] = [];
    const out = await rogue.runRound(plan, rogue.sites, (stage, id, m, round) => {
      if (stage === 'key-roster') {
        const roster = m as KeyRoster;
        expect(roster.advertisements.map((a) => a.clientId)).toEqual(planRound(round!.config).holdersOf.get(id));
        sizes.push(roster.advertisements.length);
      }
      return m;
    });
    expect(out.status).toBe('done');
    expect(sizes).toEqual(Array(N).fill(11));
  }, 120_000);

  it('a roster that lists a non-neighbour is refused (E_NOT_NEIGHBOUR)', async () => {
    const reply = await rosterAttack((roster, config, all, target) => {
      const holders = planRound(config).holdersOf.get(target)!;
      const outsider = [...all.keys()].find((id) => !holders.includes(id))!;
      return { ...roster, advertisements: [...roster.advertisements, all.get(outsider)!].sort(byId) };
    });
    expect(reply).toMatchObject({ ok: false, code: 'E_NOT_NEIGHBOUR' });
  }, 120_000);

  it('a roster that leaves out a neighbour (not even listed absent) is refused (E_NEIGHBOUR_MISSING)', async () => {
    const reply = await rosterAttack((roster, _config, _all, target) => {
      const dropped = roster.advertisements.find((a) => a.clientId !== target)!.clientId;
      return { ...roster, advertisements: roster.advertisements.filter((a) => a.clientId !== dropped) };
    });
    expect(reply).toMatchObject({ ok: false, code: 'E_NEIGHBOUR_MISSING' });
  }, 120_000);

  it('a neighbour’s validly signed advertisement with a low-order X25519 key is refused (E_KEY_LOW_ORDER)', async () => {
    const reply = await rosterAttack((roster, config, _all, target) => {
      const colluder = roster.advertisements.find((a) => a.clientId !== target)!;
      const seed = rogue!.sites.find((s) => s.siteId === colluder.clientId)!.seed;
      const lowOrder = new Uint8Array(32); // u = 0, the point of order 1 (RFC 7748 section 6.1's list)
      const signature = new Ed25519Signer(seed).sign(
        signedAdvertise(
          config.federationId,
          config.roundId,
          colluder.clientId,
          colluder.encryptionPublicKey,
          lowOrder,
          seedBinding(config),
        ),
      );
      const forged = { ...colluder, maskingPublicKey: lowOrder, signature };
      return { ...roster, advertisements: roster.advertisements.map((a) => (a === colluder ? forged : a)) };
    });
    expect(reply).toMatchObject({ ok: false, code: 'E_KEY_LOW_ORDER' });
  }, 120_000);
});
