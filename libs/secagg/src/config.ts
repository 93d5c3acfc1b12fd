/**
 * Round configuration shared by every client and the server, and what follows from it (neighbourhoods, Shamir
 * x-coordinates). Both sides compute the same `RoundPlan` from the same config.
 */
import { SECAGG_LIMITS } from '@concord/protocol';
import { SecAggError } from './errors.js';
import { hararyNeighbours } from './graph.js';
import { requireBytes, requireInteger, requireString } from './guards.js';

export interface RosterEntry {
  clientId: string;
  /** The client's enrolled Ed25519 identity public key (32 bytes, tweetnacl format). */
  identityPublicKey: Uint8Array;
}

export interface SecAggConfig {
  federationId: string;
  roundId: string;
  /** The cohort: n = roster.length clients. Order does not matter (it is sorted by clientId). */
  roster: readonly RosterEntry[];
  /**
   * Shamir threshold t: shares needed to rebuild a client's secrets, and the minimum number of clients that must
   * survive every stage. Must satisfy 2t > k + 1 (an honest majority of each neighbourhood, Bell et al. §4) and
   * t <= k + 1.
   */
  threshold: number;
  /** Neighbours per client k (graph degree): even and < n - 1 for SecAgg+, or n - 1 for SecAgg (complete graph). */
  neighbours: number;
  /** Length of the summed vector in uint32 words (model coordinates + the weight coordinate, see encoding.ts). */
  vectorLength: number;
  /**
   * b: inputs are summed mod 2^b and travel packed at b bits a word (packing.ts); 32 when absent. Masks stay
   * uniform mod 2^b (the low b bits of a uniform 32-bit PRG word are uniform), so the masking is unchanged.
   */
  modulusBits?: number;
  /** Public, fresh per round: picks the random graph (graph.ts). In Concord rounds it comes from the seed flip. */
  graphSeed: Uint8Array;
  /**
   * H(C), the hash of the seed-flip commitment list (seed-flip.ts). It and `graphSeed` enter the advertisement and
   * consistency signatures, so clients shown different lists reject each other. Absent only where the seed was
   * agreed out of band (unit tests, the benchmark): 32 zero bytes are signed then.
   */
  seedCommitmentsHash?: Uint8Array;
}

export interface RoundPlan {
  readonly config: SecAggConfig;
  readonly n: number;
  /** Client ids sorted (code-unit order): index i in every array below is ids[i]. */
  readonly ids: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  readonly identityKeys: ReadonlyMap<string, Uint8Array>;
  /** Each client's neighbours (ids, sorted), without itself. */
  readonly neighboursOf: ReadonlyMap<string, readonly string[]>;
  /** Holders of each client's shares: its neighbours and itself, sorted; holder j gets x-coordinate j + 1. */
  readonly holdersOf: ReadonlyMap<string, readonly string[]>;
}

/** Validates a config and derives the plan. @throws TypeError/RangeError naming the bad field. */
export function planRound(config: SecAggConfig): RoundPlan {
  if (typeof config !== 'object' || config === null) throw new TypeError('config must be an object');
  requireString(config.federationId, 'config.federationId');
  requireString(config.roundId, 'config.roundId');
  if (!Array.isArray(config.roster)) throw new TypeError('config.roster must be an array');
  const n = config.roster.length;
  requireInteger(n, 'config.roster.length', 2, SECAGG_LIMITS.maxClients);
  requireInteger(config.neighbours, 'config.neighbours', 1, n - 1);
  const k = config.neighbours;
  if (k !== n - 1 && k % 2 !== 0) throw new RangeError(`config.neighbours must be even or n-1, got ${k} (n=${n})`);
  if (k + 1 > 255) throw new RangeError('config.neighbours must be <= 254 (GF(2^8) Shamir has 255 x-coordinates)');
  requireInteger(config.threshold, 'config.threshold', 2, k + 1);
  if (2 * config.threshold <= k + 1) {
    throw new RangeError(`config.threshold must exceed (neighbours+1)/2 = ${(k + 1) / 2}, got ${config.threshold}`);
  }
  requireInteger(config.vectorLength, 'config.vectorLength', 1, SECAGG_LIMITS.maxVectorWords);
  if (config.modulusBits !== undefined) requireInteger(config.modulusBits, 'config.modulusBits', 1, 32);
  requireBytes(config.graphSeed, 'config.graphSeed', 32);
  if (config.seedCommitmentsHash !== undefined) {
    requireBytes(config.seedCommitmentsHash, 'config.seedCommitmentsHash', 32);
  }

  const identityKeys = new Map<string, Uint8Array>();
  const seenKeys = new Set<string>();
  for (const [i, entry] of config.roster.entries()) {
    requireString(entry?.clientId, `config.roster[${i}].clientId`);
    requireBytes(entry.identityPublicKey, `config.roster[${i}].identityPublicKey`, 32);
    if (identityKeys.has(entry.clientId)) throw new RangeError(`config.roster: duplicate clientId ${entry.clientId}`);
    const hex = Buffer.from(entry.identityPublicKey).toString('hex');
    if (seenKeys.has(hex)) throw new RangeError(`config.roster: two clients share one identity key`);
    seenKeys.add(hex);
    identityKeys.set(entry.clientId, entry.identityPublicKey);
  }
  const ids = [...identityKeys.keys()].sort();
  const indexOf = new Map(ids.map((id, i) => [id, i]));
  const graph = hararyNeighbours(n, k, config.graphSeed);
  const neighboursOf = new Map<string, string[]>();
  const holdersOf = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    neighboursOf.set(
      ids[i],
      graph[i].map((j) => ids[j]),
    );
    holdersOf.set(
      ids[i],
      [...graph[i], i].sort((a, b) => a - b).map((j) => ids[j]),
    );
  }
  return { config, n, ids, indexOf, identityKeys, neighboursOf, holdersOf };
}

/** What every advertisement and consistency signature binds besides its own fields: the graph seed and H(C). */
export function seedBinding(config: Pick<SecAggConfig, 'graphSeed' | 'seedCommitmentsHash'>): Uint8Array[] {
  return [config.graphSeed, config.seedCommitmentsHash ?? new Uint8Array(32)];
}

/** b of the round's modulus 2^b (32 when the config does not set it). */
export function modulusBitsOf(config: Pick<SecAggConfig, 'modulusBits'>): number {
  return config.modulusBits ?? 32;
}

/** Shamir x-coordinate of `holder`'s share of `owner`'s secrets. */
export function shareX(plan: RoundPlan, owner: string, holder: string): number {
  const holders = plan.holdersOf.get(owner);
  const i = holders ? holders.indexOf(holder) : -1;
  if (i < 0) throw new SecAggError('E_UNKNOWN_CLIENT', `${holder} holds no share of ${owner}`);
  return i + 1;
}

/** Mask sign convention: in y_u, the pair mask with v is added when u < v and subtracted when u > v. */
export function pairSign(self: string, other: string): 1 | -1 {
  return self < other ? 1 : -1;
}
