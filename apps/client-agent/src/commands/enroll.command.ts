import { CliError, parseNumberFlag, printJson } from '@concord/cli';
import { EnrollResponseSchema, parseFederationSpec, type FederationSpec, type PrivacyTerms } from '@concord/protocol';
import { type Command, Option } from 'commander';
import {
  DEFAULT_STATE_DIR,
  generateSiteKeys,
  loadSiteState,
  saveSiteState,
  SiteStateError,
} from '../keys/site-state.js';
import { readText } from '../cli/read-text.js';
import { isTlsTrustError, normaliseServerUrl } from '../transport/agent-transport.js';
import { postJson } from '../transport/post-json.js';

export function register(program: Command): void {
  program
    .command('enroll')
    .description(
      "register this site with an aggregator: creates the site's keys (kept here) and declares its privacy cap",
    )
    .addOption(new Option('--server <url>', 'aggregator URL, http(s):// or ws(s)://').env('CONCORD_AGENT_SERVER'))
    .addOption(new Option('--token <token>', 'one-time enrollment token from the operator').env('CONCORD_AGENT_TOKEN'))
    .addOption(
      new Option('--max-epsilon <e>', "the site's privacy cap: epsilon over every round it ever joins").env(
        'CONCORD_AGENT_MAX_EPSILON',
      ),
    )
    .addOption(new Option('--delta <d>', "the cap's delta").env('CONCORD_AGENT_DELTA').default('1e-5'))
    .addOption(
      new Option('--state-dir <dir>', 'where keys, enrollment and the local ledger live')
        .env('CONCORD_AGENT_STATE_DIR')
        .default(DEFAULT_STATE_DIR),
    )
    .addOption(new Option('--ca <file>', 'PEM CA bundle to trust for https (a private CA)').env('CONCORD_AGENT_CA'))
    .option('--json', 'print the enrollment as JSON on stdout')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const server = requiredText('--server', opts.server);
      const token = requiredText('--token', opts.token);
      const epsilon = parseNumberFlag('--max-epsilon', opts.maxEpsilon as string, { min: 0, minExclusive: true });
      const delta = parseNumberFlag('--delta', opts.delta as string, {
        min: 0,
        max: 1,
        minExclusive: true,
        maxExclusive: true,
      });
      const stateDir = opts.stateDir as string;
      let origin: string;
      try {
        origin = normaliseServerUrl(server);
      } catch (error) {
        throw new CliError(`--server: ${(error as Error).message.replace(/^E_BAD_URL: /, '')}`);
      }
      assertNotEnrolled(stateDir);
      const ca = typeof opts.ca === 'string' ? readText(opts.ca, '--ca') : undefined;

      const keys = generateSiteKeys();
      const response = await postEnrollment(
        origin,
        {
          token,
          ed25519PublicKey: keys.identity.publicKey,
          x25519PublicKey: keys.agreement.publicKey,
          cap: { epsilon, delta },
        },
        ca,
      );
      saveSiteState(stateDir, {
        version: 1,
        server: origin,
        siteId: response.siteId,
        federationId: response.federationId,
        serverPublicKey: response.serverPublicKey,
        identity: keys.identity,
        agreement: keys.agreement,
        cap: { epsilon, delta },
        spec: response.spec,
        terms: response.terms,
        enrolledAt: new Date().toISOString(),
      });
      const summary = {
        siteId: response.siteId,
        federationId: response.federationId,
        server: origin,
        serverPublicKey: response.serverPublicKey,
        identityPublicKey: keys.identity.publicKey,
        cap: { epsilon, delta },
        terms: response.terms,
        stateDir,
      };
      if (opts.json) printJson(summary);
      else {
        process.stderr.write(
          `enrolled site ${summary.siteId} in federation ${summary.federationId}\n` +
            `pinned aggregator key ${summary.serverPublicKey}\npinned privacy terms ${JSON.stringify(summary.terms)}\n` +
            `keys and ledger in ${stateDir} (keep it private)\n`,
        );
      }
    });
}

function requiredText(flag: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new CliError(`${flag} is required`);
  return value.trim();
}

function assertNotEnrolled(stateDir: string): void {
  try {
    loadSiteState(stateDir);
  } catch (error) {
    if (error instanceof SiteStateError && error.code === 'E_NOT_ENROLLED') return;
    throw new CliError(`${stateDir}: ${(error as Error).message}`);
  }
  throw new CliError(`${stateDir} already holds an enrollment; use another --state-dir to enroll again`);
}

async function postEnrollment(
  origin: string,
  body: { token: string; ed25519PublicKey: string; x25519PublicKey: string; cap: { epsilon: number; delta: number } },
  ca: string | undefined,
): Promise<{
  siteId: string;
  federationId: string;
  serverPublicKey: string;
  spec?: FederationSpec;
  terms: PrivacyTerms;
}> {
  let response: { status: number; payload: unknown };
  try {
    response = await postJson(`${origin}/api/enroll`, body, { ca, timeoutMs: 30_000 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const hint = isTlsTrustError(e.code) ? '; trust its CA with --ca FILE' : '';
    throw new CliError(`cannot reach ${origin}: Error: ${e.message}${hint}`, 2, 'E_UNREACHABLE');
  }
  const payload = (
    response.payload !== null && typeof response.payload === 'object' ? response.payload : null
  ) as Record<string, unknown> | null;
  if (response.status < 200 || response.status >= 300) {
    const code = typeof payload?.code === 'string' ? payload.code : `HTTP_${response.status}`;
    const message = typeof payload?.message === 'string' ? payload.message : `HTTP ${response.status}`;
    throw new CliError(`enrollment refused (${code}): ${message}`, 1, code);
  }
  const { spec, ...rest } = payload ?? {};
  const parsed = EnrollResponseSchema.safeParse(rest);
  if (!parsed.success) throw new CliError('the aggregator answered with a malformed enrollment', 2, 'E_BAD_RESPONSE');
  const terms = parsed.data.terms;
  if (!terms) {
    // nothing to pin: the agent could not check a single plan against the federation's terms
    throw new CliError('the aggregator sent no privacy terms to pin (an older aggregator?)', 2, 'E_TERMS_NOT_PINNED');
  }
  let federationSpec: FederationSpec | undefined;
  if (spec !== undefined) {
    try {
      federationSpec = parseFederationSpec(spec);
    } catch (error) {
      throw new CliError(
        `the aggregator sent an invalid federation spec: ${(error as Error).message}`,
        2,
        'E_BAD_RESPONSE',
      );
    }
  }
  return { ...parsed.data, terms, spec: federationSpec };
}
