import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { CliError, parseNumberFlag, printJson } from '@concord/cli';
import { FEDERATION_STATUSES } from '../db/schema/federations.js';
import { addConnectionOptions, ApiClient, type ConnectionFlags, resolveConnection, seg } from '../cli/api-client.js';
import {
  describeProgress,
  federationProgress,
  type FederationView,
  waitForFederation,
} from '../cli/federation-wait.js';

interface Paged<T> {
  items: T[];
  total: number;
}

/** `concord federation ...`: create and follow federations through the dashboard REST API. */
export function register(program: Command): void {
  const federation = program
    .command('federation')
    .description('create, list, follow, pause, resume and archive federations (through the REST API)');

  addConnectionOptions(
    federation
      .command('create')
      .description('create a federation from a spec file (YAML or JSON; see docs/federation-spec.md)')
      .addOption(new Option('--spec <file>', 'the federation spec').makeOptionMandatory())
      .option('--draft', 'keep it a draft (no rounds until `concord federation resume`)'),
  ).action(async (flags: ConnectionFlags & { spec: string; draft?: boolean }) => {
    let text: string;
    try {
      text = readFileSync(flags.spec, 'utf8');
    } catch (error) {
      throw new CliError(`--spec: cannot read ${flags.spec} (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
    const created = await client(flags).post<FederationView>('/api/federations', {
      spec: text,
      start: !flags.draft,
    });
    if (flags.json) printJson(created);
    else {
      process.stdout.write(`${created.id}\n`);
      process.stderr.write(`created federation ${created.id} (${created.name}), ${created.status}\n`);
    }
  });

  addConnectionOptions(
    federation
      .command('list')
      .description('list federations, newest first')
      .addOption(new Option('--status <status>', 'only this status').choices(FEDERATION_STATUSES))
      .addOption(new Option('--limit <n>', 'at most this many').default('50')),
  ).action(async (flags: ConnectionFlags & { status?: string; limit: string }) => {
    const limit = parseNumberFlag('--limit', flags.limit, { integer: true, min: 1, max: 500 });
    const query = new URLSearchParams({ limit: String(limit), ...(flags.status ? { status: flags.status } : {}) });
    const page = await client(flags).get<Paged<FederationView>>(`/api/federations?${query}`);
    if (flags.json) return printJson(page);
    const rows = page.items.map((f) => [f.id, f.status, f.name, f.statusReason?.message ?? '']);
    writeTable(['ID', 'STATUS', 'NAME', 'REASON'], rows);
    if (page.total > page.items.length) process.stderr.write(`(${page.items.length} of ${page.total} shown)\n`);
  });

  addConnectionOptions(
    federation
      .command('status')
      .description('a federation: status, why it waits, rounds released and failed, latest model version')
      .argument('<id>', 'federation id'),
  ).action(async (id: string, flags: ConnectionFlags) => {
    const progress = await federationProgress(client(flags), id);
    if (flags.json) return printJson(progress);
    const f = progress.federation;
    process.stdout.write(`${f.id} ${f.name}\n${describeProgress(progress)}\n`);
  });

  for (const action of ['pause', 'resume', 'archive'] as const) {
    addConnectionOptions(
      federation.command(action).description(`${action} a federation`).argument('<id>', 'federation id'),
    ).action(async (id: string, flags: ConnectionFlags) => {
      const changed = await client(flags).post<FederationView>(`/api/federations/${seg(id)}/${action}`);
      if (flags.json) printJson(changed);
      else process.stdout.write(`${changed.id} ${changed.status}\n`);
    });
  }

  addConnectionOptions(
    federation
      .command('wait')
      .description(
        'wait until N rounds are released (or, without --rounds, the federation completes); exit 0 done, 1 timed out or stopped',
      )
      .argument('<id>', 'federation id')
      .addOption(new Option('--rounds <n>', 'released rounds to wait for').default(undefined, 'until completed'))
      .addOption(new Option('--timeout <seconds>', 'give up after this long').makeOptionMandatory())
      .addOption(new Option('--poll <seconds>', 'time between two looks').default('1')),
  ).action(async (id: string, flags: ConnectionFlags & { rounds?: string; timeout: string; poll: string }) => {
    const rounds =
      flags.rounds === undefined ? undefined : parseNumberFlag('--rounds', flags.rounds, { integer: true, min: 1 });
    const timeoutS = parseNumberFlag('--timeout', flags.timeout, { min: 0, max: 7 * 24 * 3600 });
    const pollS = parseNumberFlag('--poll', flags.poll, { min: 0.05, max: 3600 });
    const progress = await waitForFederation(client(flags), id, {
      rounds,
      timeoutMs: timeoutS * 1000,
      pollMs: pollS * 1000,
      onProgress: (p) => process.stderr.write(`${describeProgress(p)}\n`),
    });
    if (flags.json) printJson(progress);
    else process.stdout.write(`${describeProgress(progress)}\n`);
  });
}

export function client(flags: ConnectionFlags): ApiClient {
  return new ApiClient(resolveConnection(flags));
}

/** Left-aligned columns, for people; scripts use --json. */
export function writeTable(header: string[], rows: string[][]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  for (const row of all) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd() + '\n');
}
