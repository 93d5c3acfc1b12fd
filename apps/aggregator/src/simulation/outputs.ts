import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createWatermarkKey,
  embedWatermark,
  keyCommitment,
  serializeKey,
  sha256Hex,
  signOwnershipCertificate,
  WATERMARK_SCHEME,
  writeSafetensors,
} from '@concord/watermark';
import type { SimulationResult } from './sim-options.js';

/**
 * `--out DIR`: the final model with the owner watermark (model.safetensors), the owner key (watermark-key.json,
 * 0600), an ownership certificate, and one fingerprinted copy per site (fingerprints/<site>.safetensors + key).
 */
export async function writeSimulationOutputs(dir: string, result: SimulationResult): Promise<Record<string, string>> {
  mkdirSync(join(dir, 'fingerprints'), { recursive: true });
  const spec = result.settings.model;
  const owner =
    result.watermarkKey ??
    createWatermarkKey({
      role: 'owner',
      federationId: result.federationId,
      seed: new Uint8Array(randomBytes(32)),
      inputSize: spec.inputSize,
    });
  const { weights: marked } = embedWatermark(spec, result.weights, [owner]);
  const files: Record<string, string> = {};
  files.model = join(dir, 'model.safetensors');
  const modelBytes = writeSafetensors(spec, marked, { 'concord.federation': result.federationId });
  writeFileSync(files.model, modelBytes);
  files.watermarkKey = join(dir, 'watermark-key.json');
  writeFileSync(files.watermarkKey, serializeKey(owner), { mode: 0o600 });
  // The commitment's salt opens the certificate in a dispute: it stays with the (secret) key.
  const salt = new Uint8Array(randomBytes(32));
  writeFileSync(join(dir, 'watermark-key.salt'), Buffer.from(salt).toString('hex') + '\n', { mode: 0o600 });
  const certificate = signOwnershipCertificate(
    {
      federationId: result.federationId,
      modelSha256: sha256Hex(modelBytes),
      keyCommitment: keyCommitment(owner, salt),
      keyRole: 'owner',
      scheme: WATERMARK_SCHEME,
      modelVersion: result.rounds,
    },
    Date.now(),
    result.keys.signingKeyObject(),
  );
  files.certificate = join(dir, 'certificate.json');
  writeFileSync(files.certificate, JSON.stringify(certificate, null, 2) + '\n');
  for (const site of Object.keys(result.perSiteEpsilon)) {
    const key = createWatermarkKey({
      role: 'fingerprint',
      federationId: result.federationId,
      siteId: site,
      seed: new Uint8Array(randomBytes(32)),
      inputSize: spec.inputSize,
    });
    const { weights } = embedWatermark(spec, result.weights, [owner, key]);
    writeFileSync(join(dir, 'fingerprints', `${site}.safetensors`), writeSafetensors(spec, weights));
    writeFileSync(join(dir, 'fingerprints', `${site}.key.json`), serializeKey(key), { mode: 0o600 });
  }
  files.fingerprints = join(dir, 'fingerprints');
  return files;
}
