import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { CliError, parseChoiceFlag, printJson } from '@concord/cli';
import type { Db } from '../db/client.js';
import { ApiKeyRepository, API_KEY_ROLES } from '../repositories/api-key.repository.js';
import { SiteRepository } from '../repositories/site.repository.js';
import { DEFAULT_DATA_DIR, resolveDatabaseTarget } from '../cli/database-target.js';
import { openMigratedDatabase } from '../server.js';
import { ApiKeyService } from '../services/api-key.service.js';

interface KeysCreateFlags {
  role?: string;
  name?: string;
  federation?: string;
  site?: string;
  dataDir?: string;
  databaseUrl?: string;
  init?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const keys = program.command('keys').description('API keys for the dashboard API (only their sha256 is stored)');
  keys
    .command('create')
    .description('create an API key and print it once (it cannot be shown again)')
    .addOption(new Option('--role <role>', `one of ${API_KEY_ROLES.join(', ')}`).makeOptionMandatory())
    .addOption(new Option('--name <name>', 'a label for the key').default('cli'))
    .addOption(new Option('--federation <id>', 'limit the key to one federation'))
    .addOption(new Option('--site <id>', 'the enrolled site a site key belongs to (required for --role site only)'))
    .addOption(new Option('--data-dir <dir>', 'PGlite data directory (env CONCORD_DATA_DIR)'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL server URL (env CONCORD_DATABASE_URL or DATABASE_URL)'))
    .option('--init', 'create a new embedded database when --data-dir holds none (refused otherwise)')
    .option('--json', 'print { key, id, role, name, database } as JSON')
    .action(async (flags: KeysCreateFlags) => {
      const role = parseChoiceFlag('--role', flags.role, API_KEY_ROLES);
      const name = (flags.name ?? 'cli').trim();
      if (name === '' || name.length > 200) throw new CliError('--name must be 1 to 200 characters');
      // the same rules as POST /api/keys: a site key names its site, no other key does
      if ((role === 'site') !== (flags.site !== undefined)) {
        throw new CliError('--site is required for --role site, and only for it');
      }
      for (const [flag, value] of [
        ['--federation', flags.federation],
        ['--site', flags.site],
      ] as const) {
        if (value !== undefined && !UUID.test(value)) throw new CliError(`${flag} must be a uuid`);
      }
      const target = resolveDatabaseTarget(flags);
      const where = describeTarget(target);
      // A key written into a database the server does not use is rejected with 401 later, far from the cause.
      if (target.dataDir !== undefined && !flags.init && !existsSync(join(target.dataDir, 'PG_VERSION'))) {
        throw new CliError(
          `no database at ${where}: give the server's --database-url (or set DATABASE_URL), the --data-dir \`concord serve\` uses, or --init to create a new embedded database there`,
        );
      }
      let database;
      try {
        database = await openMigratedDatabase({ databaseUrl: target.url, dataDir: target.dataDir ?? DEFAULT_DATA_DIR });
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      try {
        const service = new ApiKeyService(new ApiKeyRepository(database.db));
        const federationId = flags.site
          ? await siteFederation(database.db, flags.site, flags.federation)
          : flags.federation;
        const { key, apiKey } = await service
          .create({ role, name, federationId: federationId ?? null, siteId: flags.site ?? null })
          .catch((error: unknown) => {
            throw new CliError(`cannot create the key: ${(error as Error).message.split('\n')[0]}`);
          });
        if (flags.json) printJson({ key, id: apiKey.id, role: apiKey.role, name: apiKey.name, database: where });
        else {
          process.stdout.write(`${key}\n`);
          process.stderr.write(`created ${role} key ${apiKey.id} (${name}) in ${where}; it is shown only this once\n`);
        }
      } finally {
        await database.close().catch(() => {});
      }
    });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A site key is bound to its site's federation, as the API binds it; a --federation that differs is refused. */
async function siteFederation(db: Db, siteId: string, federation: string | undefined): Promise<string> {
  const site = await new SiteRepository(db).getSite(siteId);
  if (!site || (federation !== undefined && federation !== site.federationId)) {
    throw new CliError(`--site: no site ${siteId}${federation === undefined ? '' : ' in that federation'}`);
  }
  return site.federationId;
}

/** The database named for people: the PGlite directory's absolute path, or the server URL without its password. */
function describeTarget(target: { url?: string; dataDir?: string }): string {
  if (target.url === undefined) return `embedded database ${resolve(target.dataDir!)}`;
  try {
    const url = new URL(target.url);
    if (url.password) url.password = '***';
    return `PostgreSQL ${url.toString()}`;
  } catch {
    return 'PostgreSQL (unparseable url)';
  }
}
