import type { Command } from 'commander';
import { printJson } from '@concord/cli';
import { addConnectionOptions, type ConnectionFlags, seg } from '../cli/api-client.js';
import { client, writeTable } from './federation.command.js';

interface Budgets {
  federationId: string;
  accountant: string;
  sites: {
    siteId: string;
    name: string;
    status: string;
    epsilonSpent: number;
    capEpsilon: number;
    remaining: number;
    charges: number;
  }[];
}

/** `concord budgets ID`: each site's epsilon, recomputed by the server from the privacy ledger. */
export function register(program: Command): void {
  addConnectionOptions(
    program
      .command('budgets')
      .description("each site's epsilon spent, cap and remaining, recomputed from the privacy ledger")
      .argument('<federation-id>', 'federation id'),
  ).action(async (id: string, flags: ConnectionFlags) => {
    const budgets = await client(flags).get<Budgets>(`/api/federations/${seg(id)}/budgets`);
    if (flags.json) return printJson(budgets);
    writeTable(
      ['SITE', 'STATUS', 'EPSILON', 'CAP', 'REMAINING', 'CHARGES'],
      budgets.sites.map((s) => [
        s.name,
        s.status,
        s.epsilonSpent.toFixed(4),
        s.capEpsilon.toFixed(4),
        s.remaining.toFixed(4),
        String(s.charges),
      ]),
    );
    process.stderr.write(`accountant: ${budgets.accountant}; ${budgets.sites.length} site(s)\n`);
  });
}
