import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { verifyOwnershipCertificate } from '@concord/watermark';
import { type Command, Option } from 'commander';
import { CliError, parseNumberFlag, printJson } from '@concord/cli';
import { addConnectionOptions, type ConnectionFlags, seg } from '../cli/api-client.js';
import { client, writeTable } from './federation.command.js';

/** Where `concord serve` keeps a federation's owner watermark key (KeyRepository.watermarkKey). Never downloaded. */
export function watermarkKeyNote(federationId: string): string {
  return (
    `the owner watermark key stays on the aggregator: watermark-${federationId}.json in the key directory of ` +
    '`concord serve` (--key-dir, env CONCORD_KEY_DIR, default ./.concord/keys from where serve started; mode 0600). ' +
    'It is not downloadable; it opens the certificate commitment in a dispute (`concord watermark verify --key`).'
  );
}

interface ModelRow {
  version: number;
  createdAt: string;
  metrics: Record<string, number>;
}

/**
 * `concord model list`: versions and their private evaluation; `concord model download`: a released model version as
 * safetensors, with its signed ownership certificate.
 */
export function register(program: Command): void {
  const model = program.command('model').description('released model versions (through the REST API)');
  addConnectionOptions(
    model
      .command('list')
      .description(
        'released model versions, newest first, with their private evaluation (noisy metric ± the std of its noise)',
      )
      .argument('<federation-id>', 'federation id')
      .addOption(new Option('--limit <n>', 'at most this many').default('20')),
  ).action(async (id: string, flags: ConnectionFlags & { limit: string }) => {
    const limit = parseNumberFlag('--limit', flags.limit, { integer: true, min: 1, max: 500 });
    const page = await client(flags).get<{ items: ModelRow[]; total: number }>(
      `/api/federations/${seg(id)}/models?limit=${limit}`,
    );
    if (flags.json) return printJson(page);
    const shown = (m: Record<string, number>, name: string, digits: number) =>
      m[`${name}Std`] === undefined ? '' : `${m[name].toFixed(digits)} ± ${m[`${name}Std`].toFixed(digits)}`;
    writeTable(
      ['VERSION', 'RELEASED', 'ACCURACY', 'LOSS', 'ROC AUC', 'RECORDS'],
      page.items.map((v) => [
        String(v.version),
        v.createdAt,
        shown(v.metrics, 'accuracy', 4),
        shown(v.metrics, 'loss', 4),
        shown(v.metrics, 'rocAuc', 4),
        shown(v.metrics, 'evaluatedRecords', 0),
      ]),
    );
    if (page.total > page.items.length) process.stderr.write(`(${page.items.length} of ${page.total} shown)\n`);
  });

  addConnectionOptions(
    model
      .command('download')
      .description(
        'download a model version (safetensors) and its ownership certificate into DIR; checks that the certificate signs this file',
      )
      .argument('<federation-id>', 'federation id')
      .addOption(new Option('--version <v>', 'model version').default(undefined, 'the latest'))
      .addOption(new Option('--out <dir>', 'directory to write into (created if missing)').makeOptionMandatory()),
  ).action(async (id: string, flags: ConnectionFlags & { version?: string; out: string }) => {
    const api = client(flags);
    const base = `/api/federations/${seg(id)}/models`;
    let version: number;
    if (flags.version !== undefined) version = parseNumberFlag('--version', flags.version, { integer: true, min: 0 });
    else {
      const latest = await api.get<{ items: { version: number }[] }>(`${base}?limit=1`);
      if (latest.items.length === 0) throw new CliError(`federation ${id} has released no model yet`, 1, 'E_NOT_FOUND');
      version = latest.items[0].version;
    }
    const file = await api.download(`${base}/${seg(version)}/download`);
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    // The server names the file; keep only its last component so a hostile name cannot leave DIR.
    const name = basename(file.filename ?? `model-v${version}.safetensors`).replace(/^\.+/, '') || 'model.safetensors';
    let certificate: unknown;
    try {
      certificate = await api.get(`${base}/${seg(version)}/certificate`);
    } catch (error) {
      if ((error as CliError).code !== 'E_NOT_FOUND') throw error;
      certificate = undefined; // a version released without a watermark has no certificate
    }
    const check =
      certificate === undefined ? undefined : verifyOwnershipCertificate(certificate, { modelBytes: file.bytes });
    const dir = resolve(flags.out);
    mkdirSync(dir, { recursive: true });
    const modelPath = join(dir, name);
    writeFileSync(modelPath, file.bytes);
    const certificatePath =
      certificate === undefined ? null : join(dir, name.replace(/\.safetensors$/, '') + '.certificate.json');
    if (certificatePath) writeFileSync(certificatePath, JSON.stringify(certificate, null, 2) + '\n');
    const result = {
      federationId: id,
      version,
      model: modelPath,
      sha256,
      sizeBytes: file.bytes.byteLength,
      certificate: certificatePath,
      certificateCheck: check ?? null,
      signerPublicKey: (certificate as { publicKey?: string } | undefined)?.publicKey ?? null,
      watermarkKey: { downloaded: false, note: watermarkKeyNote(id) },
    };
    if (flags.json) printJson(result);
    else {
      process.stdout.write(`${modelPath}\nsha256 ${sha256}\n`);
      if (certificatePath) {
        process.stdout.write(
          `${certificatePath}\ncertificate: signature ${check!.signatureValid ? 'valid' : 'INVALID'}, ` +
            `${check!.modelMatches ? 'signs this file' : 'DOES NOT sign this file'}; signer ${result.signerPublicKey} ` +
            '(compare with the aggregator key your sites pinned)\n',
        );
      } else process.stdout.write('no certificate: this version carries no watermark\n');
      process.stderr.write(`${result.watermarkKey.note}\n`);
    }
    if (check && !check.valid) throw new CliError(`certificate check failed: ${check.reasons.join('; ')}`, 1);
  });
}
