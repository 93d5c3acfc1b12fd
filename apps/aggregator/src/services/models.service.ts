import { createHash } from 'node:crypto';
import {
  keyCommitment,
  signOwnershipCertificate,
  writeSafetensors,
  type OwnershipCertificate,
} from '@concord/watermark';
import type { PageQuery } from '../dtos/operator.dto.js';
import { FederationSettingsSchema } from '../federation/settings.js';
import type { KeyRepository } from '../repositories/key.repository.js';
import type { ModelVersionRepository } from '../repositories/model-version.repository.js';
import type { FederationsService } from './federations.service.js';
import { page } from './operator-common.js';
import { OperatorError } from './operator-error.js';

/** Released model versions: the list, the safetensors file, and the signed ownership certificate. */
export class ModelsService {
  constructor(
    private readonly federations: Pick<FederationsService, 'get'>,
    private readonly models: Pick<ModelVersionRepository, 'listModels' | 'model'>,
    private readonly keys: Pick<KeyRepository, 'watermarkKey' | 'signingKeyObject'>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** sha256 of each version's safetensors file by `federation/version/weights sha256`: a released version never changes. */
  private readonly fileHashes = new Map<string, string | null>();

  /**
   * The versions, each with `fileSha256`: the hash of the file that the download serves (what `sha256sum` and the
   * certificate's modelSha256 give), computed once per version and process, as the file is made from the weights.
   */
  async list(federationId: string, q: PageQuery) {
    const federation = await this.federations.get(federationId);
    const listed = await this.models.listModels(federation.id, page(q));
    const items = [];
    for (const m of listed.items) {
      const cacheKey = `${federation.id}/${m.version}/${m.sha256}`;
      let fileSha256 = this.fileHashes.get(cacheKey);
      if (fileSha256 === undefined) {
        fileSha256 = await this.file(federation.id, m.version).then(
          ({ bytes }) => createHash('sha256').update(bytes).digest('hex'),
          // no file to serve (a federation without a model spec): null, as the download answers 404/409
          (error: unknown) => {
            if (error instanceof OperatorError) return null;
            throw error;
          },
        );
        this.fileHashes.set(cacheKey, fileSha256);
      }
      items.push({ ...m, fileSha256 });
    }
    return { ...listed, items };
  }

  /** The model version as a safetensors file (the watermarked weights exactly as released). */
  async file(federationId: string, version: number): Promise<{ bytes: Uint8Array; filename: string }> {
    const { federation, model, settings } = await this.modelOf(federationId, version);
    const bytes = writeSafetensors(
      settings.model as Parameters<typeof writeSafetensors>[0],
      weightsOf(model.weights!),
      { federationId: federation.id, version: String(model.version), weightsSha256: model.sha256 },
    );
    return { bytes, filename: `${safeName(federation.name)}-v${model.version}.safetensors` };
  }

  /**
   * An ownership certificate (libs/watermark certificate.ts) over the safetensors file's sha256, signed with the
   * aggregator's key. The commitment's salt is derived from the secret key itself, so only its holder can open it.
   */
  async certificate(federationId: string, version: number): Promise<OwnershipCertificate> {
    const { federation, model, settings } = await this.modelOf(federationId, version);
    if (!model.watermarkId)
      throw new OperatorError('E_NOT_FOUND', `model version ${model.version} carries no watermark`);
    const { bytes } = await this.file(federationId, version);
    const key = this.keys.watermarkKey(federation.id, settings.model.inputSize);
    const salt = certificateSalt(key);
    return signOwnershipCertificate(
      {
        federationId: federation.id,
        modelSha256: createHash('sha256').update(bytes).digest('hex'),
        keyCommitment: keyCommitment(key, salt),
        keyRole: 'owner',
        scheme: key.scheme,
        modelVersion: model.version,
      },
      this.clock(),
      this.keys.signingKeyObject(),
    );
  }

  private async modelOf(federationId: string, version: number) {
    const federation = await this.federations.get(federationId);
    const model = await this.models.model(federation.id, version);
    if (!model?.weights) throw new OperatorError('E_NOT_FOUND', `no model version ${version} in this federation`);
    const settings = FederationSettingsSchema.safeParse(federation.spec);
    if (!settings.success) throw new OperatorError('E_CONFLICT', 'the federation has no model spec to export');
    return { federation, model, settings: settings.data };
  }
}

/**
 * The salt of a certificate's key commitment, derived from the secret watermark key itself: whoever holds the key
 * (the aggregator's key directory) can open the commitment in a dispute; nobody else can link the certificate to it.
 */
export function certificateSalt(key: unknown): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update('concord-certificate-salt/v1\0').update(JSON.stringify(key)).digest(),
  );
}

function weightsOf(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes); // aligned copy: pooled driver buffers may start at any offset
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'model';
}
