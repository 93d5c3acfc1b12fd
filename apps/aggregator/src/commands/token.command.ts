import { type Command, Option } from 'commander';
import { parseNumberFlag, printJson } from '@concord/cli';
import { addConnectionOptions, type ConnectionFlags, seg } from '../cli/api-client.js';
import { client } from './federation.command.js';

/** `concord token create`: one-time enrollment tokens for sites (each is shown once; only its sha256 is stored). */
export function register(program: Command): void {
  const token = program.command('token').description('one-time enrollment tokens for sites (through the REST API)');
  addConnectionOptions(
    token
      .command('create')
      .description('issue enrollment tokens, one per line on stdout (each is shown only this once)')
      .addOption(new Option('--federation <id>', 'the federation the sites join').makeOptionMandatory())
      .addOption(new Option('--count <n>', 'how many tokens').default('1'))
      .addOption(new Option('--ttl <minutes>', 'minutes each token stays valid').default('1440')),
  ).action(async (flags: ConnectionFlags & { federation: string; count: string; ttl: string }) => {
    const count = parseNumberFlag('--count', flags.count, { integer: true, min: 1, max: 1000 });
    const ttlMinutes = parseNumberFlag('--ttl', flags.ttl, { integer: true, min: 1, max: 30 * 24 * 60 });
    const api = client(flags);
    const tokens: { token: string; expiresAt: string }[] = [];
    // One POST per token: the API issues one at a time (and rate-limits them); a refusal stops here with the
    // tokens already issued printed, so none is lost.
    try {
      for (let i = 0; i < count; i++) {
        tokens.push(await api.post(`/api/federations/${seg(flags.federation)}/tokens`, { ttlMinutes }));
      }
    } finally {
      if (flags.json) printJson({ federationId: flags.federation, tokens });
      else for (const t of tokens) process.stdout.write(`${t.token}\n`);
    }
    if (!flags.json) {
      process.stderr.write(
        `issued ${tokens.length} token(s), valid until ${tokens.at(-1)?.expiresAt}; shown only this once\n`,
      );
    }
  });
}
