/**
 * A rogue aggregator for tests: it holds the aggregator's signing key, so every plan and message it crafts is
 * VALIDLY signed, and it drives real agents (the agent runtime with a file-backed ledger, real SecAgg+ clients,
 * the native trainer) through their socket handlers, acting as the SecAgg+ server with libs/secagg's state machine.
 * It records every reply a site gives, so a test can check that a refused plan got the refusal and nothing else.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distributedShareVariance } from '@concord/dp';
import {
  collusionSafeShape,
  ed25519PublicKeyBase64,
  planModulusBits,
  PROTOCOL_VERSION,
  secAggConfigOf,
  SIGNING_DOMAINS,
  signValue,
  type PrivacyTerms,
  type TrainingPlan,
} from '@concord/protocol';
import { SecAggServer, SeedFlipServer, type SecAggConfig } from '@concord/secagg';
import { AgentRuntime, type AgentEvent, type RuntimeHandlers } from '../../apps/client-agent/src/index.js';
import { FileBudgetGuard, LEDGER_FILE } from '../../apps/client-agent/src/services/budget/file-budget-guard.js';

export const MODEL = {
  inputSize: 4,
  layers: [{ units: 3, activation: 'none' as const }],
  loss: 'softmax-cross-entropy' as const,
};
export const PARAMETERS = 15;
export const DISTRIBUTED_TERMS: PrivacyTerms = {
  mode: 'distributed',
  accountant: 'rdp',
  delta: 1e-5,
  clipNorm: 1,
  maxColluders: 1,
  noiseSizing: 'threshold-minus-colluders',
};
export const LOCAL_TERMS: PrivacyTerms = { mode: 'local', accountant: 'rdp', delta: 1e-5, clipNorm: 1 };

export interface RogueSite {
  siteId: string;
  seed: Uint8Array;
  publicKey: string;
  stateDir: string;
  runtime: AgentRuntime;
  handlers: RuntimeHandlers;
  budget: FileBudgetGuard;
  data: ReturnType<typeof siteData>;
  events: AgentEvent[];
  /** every (event, reply) this site answered */
  replies: { event: string; reply: unknown }[];
}

function siteData(count: number) {
  const features = new Float32Array(count * 4);
  const labels = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < 4; j++) features[i * 4 + j] = ((i * 7 + j * 3) % 11) / 11 - 0.5;
    labels[i] = i % 3;
  }
  return { features, labels, count, featureCount: 4 };
}

export class RogueAggregator {
  readonly seed = new Uint8Array(randomBytes(32));
  readonly publicKey = ed25519PublicKeyBase64(this.seed);
  readonly federationId = 'rogue-federation';
  readonly sites: RogueSite[] = [];
  readonly weights = new Float32Array(PARAMETERS);
  private round = 0;

  constructor(
    n: number,
    readonly terms: PrivacyTerms,
    o: { cap?: { epsilon: number; delta: number }; accountant?: 'rdp' | 'prv'; records?: number } = {},
  ) {
    for (let i = 0; i < n; i++) {
      const seed = new Uint8Array(randomBytes(32));
      const siteId = `site-${String(i).padStart(2, '0')}`;
      const stateDir = mkdtempSync(join(tmpdir(), 'concord-rogue-'));
      const budget = FileBudgetGuard.open({
        stateDir,
        cap: o.cap ?? { epsilon: 1000, delta: 1e-5 },
        identityPublicKey: ed25519PublicKeyBase64(seed),
        accountant: o.accountant ?? 'rdp',
      });
      const events: AgentEvent[] = [];
      const data = siteData(o.records ?? 40);
      const runtime = new AgentRuntime({
        identity: {
          siteId,
          federationId: this.federationId,
          identitySeed: seed,
          serverPublicKey: this.publicKey,
          terms,
        },
        data,
        budget,
        onEvent: (e) => events.push(e),
      });
      this.sites.push({
        siteId,
        seed,
        publicKey: ed25519PublicKeyBase64(seed),
        stateDir,
        runtime,
        handlers: runtime.handlers(),
        budget,
        data,
        events,
        replies: [],
      });
    }
  }

  close(): void {
    for (const s of this.sites) rmSync(s.stateDir, { recursive: true, force: true });
  }

  /** The site's ledger file bytes ('' when absent). */
  ledgerBytes(site: RogueSite): string {
    try {
      return readFileSync(join(site.stateDir, LEDGER_FILE), 'latin1');
    } catch {
      return '';
    }
  }

  /** A valid plan for `sites` under this federation's terms (round numbers increase from call to call). */
  validPlan(sites: RogueSite[] = this.sites): TrainingPlan {
    // the SecAgg+ modulus is derived from the rest of the plan (libs/protocol events/modulus.ts), as the agent does
    const plan = this.planWithoutModulus(sites);
    plan.secagg.modulusBits = planModulusBits(plan);
    if (plan.privacy.mode === 'distributed') plan.privacy.distributed.modulusBits = plan.secagg.modulusBits;
    return plan;
  }

  private planWithoutModulus(sites: RogueSite[]): TrainingPlan {
    const n = sites.length;
    const roundNumber = ++this.round;
    const now = Date.now();
    const weightsBytes = new Uint8Array(this.weights.buffer.slice(0));
    const roster = sites.map((s) => ({ siteId: s.siteId, identityPublicKey: s.publicKey, lastReceipt: null }));
    const base = {
      version: PROTOCOL_VERSION,
      federationId: this.federationId,
      roundId: `round-${roundNumber}-${randomBytes(4).toString('hex')}`,
      roundNumber,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 600_000).toISOString(),
      model: {
        spec: MODEL,
        parameterCount: PARAMETERS,
        sha256: createHash('sha256').update(weightsBytes).digest('hex'),
      },
      optimization: { learningRate: 0.1, momentum: 0, proximalMu: 0 },
      roster,
    };
    const t = this.terms;
    const c = t.mode === 'distributed' ? t.maxColluders : 0;
    const shape = collusionSafeShape(n, c);
    if (t.mode === 'distributed') {
      const scaleBits = 10;
      return {
        ...base,
        privacy: {
          mode: 'distributed',
          sampleRate: 0.5,
          noiseMultiplier: 1,
          steps: 1,
          clipNorm: t.clipNorm,
          delta: t.delta,
          accountant: 'rdp',
          distributed: {
            scaleBits,
            roundingBeta: 0,
            dimension: PARAMETERS + 1,
            modulusBits: 32,
            localNoiseVariance: distributedShareVariance({
              noiseMultiplier: 1,
              clipNorm: t.clipNorm,
              scaleBits,
              threshold: shape.threshold,
              maxColluders: c,
            }),
            minNoisyClients: shape.threshold - c,
            cohortSize: n,
            countWeight: 0.25,
          },
        },
        encoding: { clip: 2 ** 31 / (2 * n * 2 ** scaleBits), scaleBits },
        secagg: { ...shape, vectorLength: PARAMETERS + 1, modulusBits: 32 },
      };
    }
    if (t.mode === 'local') {
      return {
        ...base,
        privacy: {
          mode: 'local',
          sampleRate: 0.25,
          noiseMultiplier: 1.1,
          steps: 2,
          clipNorm: t.clipNorm,
          delta: t.delta,
          accountant: t.accountant,
        },
        encoding: { clip: 1, scaleBits: 16 },
        secagg: { ...shape, vectorLength: PARAMETERS, modulusBits: 32 },
      };
    }
    return {
      ...base,
      privacy: { mode: 'none', batchSize: 8, steps: 2 },
      encoding: { clip: 1, scaleBits: 16 },
      secagg: { ...shape, vectorLength: PARAMETERS, modulusBits: 32 },
    };
  }

  /** The plan message, validly signed with the aggregator's key. */
  sign(plan: TrainingPlan): { plan: TrainingPlan; signature: string; weights: Uint8Array } {
    return {
      plan,
      signature: signValue(SIGNING_DOMAINS.plan, plan, this.seed),
      weights: new Uint8Array(this.weights.buffer.slice(0)),
    };
  }

  /** Emits `event` to `site` and resolves with its acknowledgement (recorded in site.replies). */
  ask(site: RogueSite, event: keyof RuntimeHandlers, message: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      const handler = site.handlers[event] as (m: unknown, ack?: (r: unknown) => void) => void;
      handler(message, (reply: unknown) => {
        site.replies.push({ event, reply });
        resolve(reply);
      });
    });
  }

  /**
   * Runs a whole honest SecAgg+ round on `plan` with `sites` (each must accept the plan first): the graph seed by
   * commit-and-reveal (stages S1-S2), then stages 0-4. `tamper` may replace the message a stage sends to a site
   * (stages 'seed-commitments' and 'seed-reveals' included; from the key roster on it also gets the round's SecAgg+
   * config, graph seed included, to sign what a colluding site would). Returns the server's outcome (`code` when it aborted)
   * and every site's refusal code.
   */
  async runRound(
    plan: TrainingPlan,
    sites: RogueSite[] = this.sites,
    tamper?: (stage: string, siteId: string, message: unknown, round?: { config: SecAggConfig }) => unknown,
  ): Promise<{
    status: string;
    code?: string;
    sum?: Uint32Array;
    survivors?: readonly string[];
    errors: Map<string, string>;
  }> {
    const errors = new Map<string, string>();
    const byId = new Map(sites.map((s) => [s.siteId, s]));
    const send = (stage: string, siteId: string, message: unknown) =>
      tamper ? tamper(stage, siteId, message) : message;
    const admitWith = (siteId: string, reply: unknown, receive: (message: unknown) => void) => {
      if ((reply as { ok?: unknown } | null)?.ok === false) {
        errors.set(siteId, String((reply as { code?: unknown }).code));
        return;
      }
      try {
        receive((reply as { masked?: unknown }).masked ?? reply);
      } catch (error) {
        errors.set(siteId, String((error as { code?: unknown }).code));
      }
    };
    const base = secAggConfigOf(plan);
    const flip = new SeedFlipServer(base);
    const header = { federationId: plan.federationId, roundId: plan.roundId };
    let seeded;
    try {
      for (const s of sites) {
        admitWith(s.siteId, await this.ask(s, 'secagg:seed-commit', header), (m) => flip.receiveCommit(m));
      }
      const listed = flip.closeCommits();
      for (const id of listed.committers) {
        const reply = await this.ask(byId.get(id)!, 'secagg:seed-reveal', send('seed-commitments', id, listed.message));
        admitWith(id, reply, (m) => flip.receiveReveal(m));
      }
      seeded = flip.closeReveals();
    } catch (error) {
      return { status: 'aborted', code: String((error as { code?: unknown }).code), errors };
    }
    const { graphSeed, seedCommitmentsHash } = seeded.seed;
    const server = new SecAggServer({
      config: { ...base, graphSeed, seedCommitmentsHash },
      deadline: Date.now() + 600_000,
    });
    const admit = (siteId: string, reply: unknown) => admitWith(siteId, reply, (m) => server.receive(m, Date.now()));
    for (const id of seeded.seed.committers) {
      admit(id, await this.ask(byId.get(id)!, 'secagg:advertise', send('seed-reveals', id, seeded.message)));
    }
    const events = {
      'key-roster': 'secagg:key-roster',
      'share-route': 'secagg:share-route',
      'consistency-request': 'secagg:consistency',
      'unmask-request': 'secagg:unmask',
    } as const;
    for (let stage = 0; stage < 5; stage++) {
      const now = Math.max(Date.now(), server.stageComplete ? 0 : server.stageDeadline);
      const out = await server.closeStage(now, Date.now() + 600_000);
      if (out.status === 'done') return { status: 'done', sum: out.sum, survivors: out.survivors, errors };
      if (out.status === 'aborted') return { status: 'aborted', code: out.error.code, errors };
      await Promise.all(
        [...out.messages].map(async ([siteId, message]) => {
          const site = byId.get(siteId);
          if (!site || message.stage === 'abort') return;
          const sent = tamper ? tamper(message.stage, siteId, message, { config: server.plan.config }) : message;
          admit(siteId, await this.ask(site, events[message.stage as keyof typeof events], sent));
        }),
      );
    }
    return { status: 'unfinished', errors };
  }
}
