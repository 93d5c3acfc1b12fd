import { existsSync, readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { CliError, printJson } from '@concord/cli';
import { resolveDatabaseTarget } from '../cli/database-target.js';
import { openDatabase, type Database } from '../db/client.js';
import { LedgerExportError, parseLedgerExport } from '../ledger/export.js';
import { federations } from '../db/schema/federations.js';
import { sites } from '../db/schema/sites.js';
import { LedgerRepository } from '../repositories/ledger.repository.js';
import { SiteRepository } from '../repositories/site.repository.js';
import { auditLedger, type AuditReport } from '../ledger/audit.js';

interface AuditFlags {
  federation?: string;
  dataDir?: string;
  databaseUrl?: string;
  ledger?: string;
  expectHead?: string;
  json?: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function register(program: Command): void {
  program
    .command('audit')
    .description(
      "recompute every site's epsilon from the privacy ledger, verify the hash chain, the sites' signatures and sequences, and the caps; exit 0 all holds, 1 findings, 2 bad input",
    )
    .addOption(new Option('--federation <id>', 'audit this federation only (default: every federation)'))
    .addOption(new Option('--data-dir <dir>', "the aggregator's PGlite data directory (env CONCORD_DATA_DIR)"))
    .addOption(new Option('--database-url <url>', 'PostgreSQL server URL (env CONCORD_DATABASE_URL or DATABASE_URL)'))
    .addOption(
      new Option(
        '--ledger <file.jsonl>',
        'a JSON-lines ledger export (entries + public keys): no aggregator or DB needed',
      ),
    )
    .addOption(new Option('--expect-head <hash>', 'an entry hash kept earlier: must be in the chain (nothing cut off)'))
    .option(
      '--json',
      'print one JSON document: ok, findings (seq, kind, message), sites (site, epsilon, delta, cap), siteKeyFindings',
    )
    .action(async (flags: AuditFlags) => {
      const expectHead = flags.expectHead?.trim().toLowerCase();
      if (expectHead !== undefined && !HEX64.test(expectHead)) {
        throw new CliError('--expect-head must be a 64-character hex SHA-256 entry hash');
      }
      const { reports, keyFindings } =
        flags.ledger !== undefined
          ? { reports: [auditFile(flags, expectHead)], keyFindings: undefined }
          : await auditDatabase(flags, expectHead);
      const ok = reports.every((r) => r.ok);
      if (flags.json) {
        printJson({
          ok,
          ...(reports.length === 1 ? { federationId: reports[0].federationId, head: reports[0].head } : {}),
          entries: reports.reduce((n, r) => n + r.entries, 0),
          findings: reports.flatMap((r) => r.findings.map((f) => ({ ...f, federationId: r.federationId }))),
          sites: reports.flatMap((r) => r.sites.map((s) => ({ ...s, federationId: r.federationId }))),
          federations: reports,
          ...(keyFindings ? { siteKeyFindings: keyFindings } : {}),
        });
      } else {
        for (const report of reports) printHuman(report);
        if (keyFindings?.length) printKeyFindings(keyFindings);
        process.stdout.write(ok ? 'audit: all checks hold\n' : 'audit: FINDINGS (see above)\n');
      }
      if (!ok) process.exitCode = 1;
    });
}

function auditFile(flags: AuditFlags, expectHead: string | undefined): AuditReport {
  if (flags.dataDir !== undefined || flags.databaseUrl !== undefined) {
    throw new CliError('--ledger cannot be combined with --data-dir or --database-url');
  }
  let text: string;
  try {
    text = readFileSync(flags.ledger!, 'utf8');
  } catch (error) {
    throw new CliError(
      `--ledger: cannot read '${flags.ledger}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  let parsed;
  try {
    parsed = parseLedgerExport(text);
  } catch (error) {
    if (error instanceof LedgerExportError) throw new CliError(`--ledger: ${error.message}`);
    throw error;
  }
  if (flags.federation !== undefined && flags.federation !== parsed.federationId) {
    throw new CliError(`--federation ${flags.federation}: the export is of federation ${parsed.federationId}`);
  }
  const report = auditLedger({ entries: parsed.entries, publicKeys: parsed.publicKeys, expectHead });
  return { ...report, federationId: parsed.federationId };
}

/**
 * A stored key that migration 0007 reported (site_key_findings). Printed beside the ledger audit, not counted in
 * `ok`: it is about a key, not the ledger, and the aggregator logs the current check at every start.
 */
interface KeyFinding {
  siteId: string;
  name?: string;
  federationId: string;
  field: string;
  code: string;
  foundBy: string;
  foundAt: string;
}

async function auditDatabase(
  flags: AuditFlags,
  expectHead: string | undefined,
): Promise<{ reports: AuditReport[]; keyFindings: KeyFinding[] }> {
  const target = resolveDatabaseTarget(flags);
  if (target.dataDir !== undefined && !existsSync(target.dataDir)) {
    throw new CliError(`--data-dir: no data directory at '${target.dataDir}'`);
  }
  let database: Database;
  try {
    database = await openDatabase(target.url !== undefined ? { url: target.url } : { dataDir: target.dataDir });
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  try {
    if (!(await database.migrationsApplied())) {
      throw new CliError('the database has no (or an outdated) Concord schema: nothing to audit');
    }
    const ledger = new LedgerRepository(database.db);
    const siteKeys = new SiteRepository(database.db);
    let ids: string[];
    if (flags.federation !== undefined) {
      ids = [flags.federation];
      const known = await database.db.select({ id: federations.id }).from(federations);
      if (!known.some((f) => f.id === flags.federation))
        throw new CliError(`--federation: no federation ${flags.federation}`);
    } else {
      ids = (await database.db.select({ id: federations.id }).from(federations)).map((f) => f.id);
    }
    if (expectHead !== undefined && ids.length !== 1) {
      throw new CliError('--expect-head needs one federation: add --federation');
    }
    const reports: AuditReport[] = [];
    // sites by their names, as the dashboard and `concord budgets` show them (the id stays beside the name)
    const names = new Map(
      (await database.db.select({ id: sites.id, name: sites.name }).from(sites)).map((r) => [r.id, r.name]),
    );
    for (const id of ids) {
      const [entries, publicKeys] = await Promise.all([ledger.entries(id), siteKeys.identityKeys(id)]);
      const report = auditLedger({ entries, publicKeys, expectHead });
      reports.push({
        ...report,
        sites: report.sites.map((s) => ({ ...s, ...(names.has(s.site) ? { name: names.get(s.site) } : {}) })),
        federationId: id,
      });
    }
    const keyFindings = (await siteKeys.recordedKeyFindings(flags.federation)).map((f) => ({
      siteId: f.siteId,
      ...(names.has(f.siteId) ? { name: names.get(f.siteId) } : {}),
      federationId: f.federationId,
      field: f.field,
      code: f.code,
      foundBy: f.foundBy,
      foundAt: f.foundAt.toISOString(),
    }));
    return { reports, keyFindings };
  } finally {
    await database.close().catch(() => {});
  }
}

function printKeyFindings(findings: readonly KeyFinding[]): void {
  process.stdout.write(
    `site keys: ${findings.length} stored key(s) failed the key checks when migration 0007 ran (never rewritten: re-enroll or revoke the site)\n`,
  );
  for (const f of findings) {
    process.stdout.write(
      `  KEY site ${f.name ? `${f.name} (${f.siteId})` : f.siteId} of federation ${f.federationId}: ${f.field} ${f.code} (${f.foundBy}, ${f.foundAt})\n`,
    );
  }
}

function printHuman(report: AuditReport): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `federation ${report.federationId ?? '(empty)'}: ${report.entries} entries, head seq ${report.head.seq} ${report.head.hash}`,
  );
  for (const s of report.sites as (AuditReport['sites'][number] & { name?: string })[]) {
    out(
      `  site ${s.name ? `${s.name} (${s.site})` : s.site}: epsilon ${s.epsilon.toFixed(4)} of cap ${s.cap} at delta ${s.delta} (${s.charges} charges, remaining ${s.remaining.toFixed(4)})`,
    );
  }
  for (const f of report.findings) out(`  FINDING seq ${f.seq} [${f.kind}] ${f.message}`);
}
