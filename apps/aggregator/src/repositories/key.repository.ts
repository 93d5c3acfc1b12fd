import { ConcordError } from '@concord/protocol';
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519PublicKeyBase64, signValue, type SigningDomain } from '@concord/protocol';
import { createWatermarkKey, parseKey, serializeKey, type WatermarkKey } from '@concord/watermark';

/** A key file that is missing, malformed or readable by others. The message names the file, never key bytes. */
export class KeyFileError extends ConcordError {
  override readonly code = 'E_KEY_FILE';
  constructor(message: string) {
    super('E_KEY_FILE', message);
    this.name = 'KeyFileError';
  }
}

export const SIGNING_KEY_FILE = 'aggregator-ed25519.key';

/**
 * The aggregator's Ed25519 signing key (plans, rosters, auth transcripts) in `keyDir` (directory 0700, file 0600,
 * the raw 32-byte seed in hex). Created on first use; a key file that group or others can read is refused.
 */
export class KeyRepository {
  private seed?: Uint8Array;
  private publicKeyCache?: string;
  /** the key imported once: importing it per signature cost ~1 ms of the server's thread per authentication */
  private signingKey?: KeyObject;

  constructor(private readonly keyDir: string) {}

  /** Base64 raw Ed25519 public key: what agents pin at enrollment. */
  get publicKey(): string {
    this.load();
    return this.publicKeyCache!;
  }

  sign(domain: SigningDomain, value: unknown): string {
    this.signingKey ??= this.signingKeyObject();
    return signValue(domain, value, this.signingKey);
  }

  /** The signing key as a KeyObject, for libraries that sign themselves (watermark ownership certificates). */
  signingKeyObject(): KeyObject {
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), this.load()]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  }

  /**
   * The federation's owner watermark key (`watermark-<federationId>.json`, 0600), made on first use for a model of
   * `inputSize` inputs. The key is a secret: it proves ownership in a dispute and never leaves the aggregator.
   */
  watermarkKey(federationId: string, inputSize: number): WatermarkKey {
    if (!/^[0-9a-zA-Z-]{1,64}$/.test(federationId)) throw new RangeError('federationId: unexpected characters');
    mkdirSync(this.keyDir, { recursive: true, mode: 0o700 });
    const file = join(this.keyDir, `watermark-${federationId}.json`);
    try {
      const mode = statSync(file).mode & 0o777;
      if (mode & 0o077) throw new KeyFileError(`${file} is readable by group or others (mode ${mode.toString(8)})`);
      return parseKey(readFileSync(file, 'utf8'), file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const key = createWatermarkKey({ role: 'owner', federationId, seed: new Uint8Array(randomBytes(32)), inputSize });
    writeFileSync(file, serializeKey(key), { mode: 0o600, flag: 'wx' });
    return key;
  }

  private load(): Uint8Array {
    if (this.seed) return this.seed;
    mkdirSync(this.keyDir, { recursive: true, mode: 0o700 });
    const file = join(this.keyDir, SIGNING_KEY_FILE);
    let text: string | undefined;
    try {
      const mode = statSync(file).mode & 0o777;
      if (mode & 0o077) throw new KeyFileError(`${file} is readable by group or others (mode ${mode.toString(8)})`);
      text = readFileSync(file, 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text === undefined) {
      const seed = randomBytes(32);
      writeFileSync(file, seed.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600);
      text = seed.toString('hex');
    }
    if (!/^[0-9a-f]{64}$/.test(text)) throw new KeyFileError(`${file} does not hold a 32-byte hex Ed25519 seed`);
    this.seed = new Uint8Array(Buffer.from(text, 'hex'));
    this.publicKeyCache = ed25519PublicKeyBase64(this.seed);
    return this.seed;
  }
}
