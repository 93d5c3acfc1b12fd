/**
 * The agent <-> aggregator wire contract: binary tensor framing, domain-separated signatures (cross-checked with
 * tweetnacl), the summed-vector layout (encode here with a plain fixed-point encoder, decode with the library),
 * and the plan -> receipt terms -> accounting phase mapping.
 */
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  SIGNING_DOMAINS,
  bytesToFloat32,
  bytesToUint32,
  decodeUpdateSum,
  distributedGradientClip,
  ed25519PublicKeyBase64,
  float32ToBytes,
  privacyPhaseOf,
  receiptTermsOf,
  signValue,
  signedBytes,
  updateVectorLength,
  verifyValue,
  type PrivacyPlan,
} from '../src/index.js';

const local: PrivacyPlan = { mode: 'local', sampleRate: 0.1, noiseMultiplier: 1.1, steps: 2, clipNorm: 1, delta: 1e-5 };
const distributed: PrivacyPlan = {
  mode: 'distributed',
  sampleRate: 0.05,
  noiseMultiplier: 0.9,
  steps: 1,
  clipNorm: 1,
  delta: 1e-5,
  distributed: {
    scaleBits: 14,
    roundingBeta: 0,
    dimension: 11,
    modulusBits: 32,
    localNoiseVariance: 1e6,
    minNoisyClients: 3,
    cohortSize: 5,
    countWeight: 0.25,
  },
};
const model = {
  spec: { inputSize: 3, layers: [{ units: 2, activation: 'none' as const }], loss: 'mse' as const },
  parameterCount: 10,
  sha256: '0'.repeat(64),
};

describe('tensor framing', () => {
  it('round-trips float32 exactly, including from an unaligned view of a pooled buffer', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ noNaN: true, noDefaultInfinity: true, maxLength: 64 }),
        fc.nat(7),
        (values, pad) => {
          const bytes = float32ToBytes(values);
          const pooled = new Uint8Array(bytes.length + pad);
          pooled.set(bytes, pad);
          expect([...bytesToFloat32(pooled.subarray(pad), values.length)]).toEqual([...values]);
        },
      ),
    );
  });
  it('refuses a wrong length with a code, an oversize one as E_TOO_LARGE, and non-finite values', () => {
    expect(() => bytesToUint32(new Uint8Array(12), 2)).toThrow(expect.objectContaining({ code: 'E_TOO_LARGE' }));
    expect(() => bytesToUint32(new Uint8Array(4), 2)).toThrow(expect.objectContaining({ code: 'E_BAD_MESSAGE' }));
    expect(() => bytesToFloat32([1, 2, 3, 4], 1)).toThrow(expect.objectContaining({ code: 'E_BAD_MESSAGE' }));
    expect(() => bytesToFloat32(float32ToBytes(new Float32Array([NaN])), 1)).toThrow(
      expect.objectContaining({ code: 'E_BAD_MESSAGE' }),
    );
  });
});

describe('signatures', () => {
  const seed = new Uint8Array(32).map((_, i) => i + 1);
  const pair = nacl.sign.keyPair.fromSeed(seed);

  it('match tweetnacl over domain || 0x00 || canonical JSON, and verify only under the right domain and key', () => {
    const value = { b: 2, a: [1, 'x'] };
    const signature = signValue(SIGNING_DOMAINS.plan, value, seed);
    const bytes = signedBytes(SIGNING_DOMAINS.plan, value);
    expect(new TextDecoder().decode(bytes)).toBe('concord/plan/v1\u0000{"a":[1,"x"],"b":2}');
    expect(Buffer.from(nacl.sign.detached(bytes, pair.secretKey)).toString('base64')).toBe(signature);
    expect(ed25519PublicKeyBase64(seed)).toBe(Buffer.from(pair.publicKey).toString('base64'));
    const pub = ed25519PublicKeyBase64(seed);
    expect(verifyValue(SIGNING_DOMAINS.plan, { a: [1, 'x'], b: 2 }, signature, pub)).toBe(true);
    expect(verifyValue(SIGNING_DOMAINS.siteAuth, value, signature, pub)).toBe(false);
    expect(verifyValue(SIGNING_DOMAINS.plan, { ...value, b: 3 }, signature, pub)).toBe(false);
    expect(verifyValue(SIGNING_DOMAINS.plan, value, signature, ed25519PublicKeyBase64(new Uint8Array(32)))).toBe(false);
    expect(verifyValue(SIGNING_DOMAINS.plan, value, 'not base64', pub)).toBe(false);
  });
});

describe('update layout', () => {
  /** Plain fixed-point encoder (round to nearest), two's complement mod 2^32. */
  const encode = (values: ArrayLike<number>, bits: number) =>
    Uint32Array.from(values, (v) => Math.round(v * 2 ** bits) >>> 0);

  it('local mode: the decoded sum of n encoded deltas is their mean (to the encoding step)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 10, maxLength: 10 }), {
          minLength: 1,
          maxLength: 8,
        }),
        (deltas) => {
          const sum = new Uint32Array(10);
          for (const d of deltas) {
            const e = encode(d, 16);
            for (let i = 0; i < 10; i++) sum[i] = (sum[i] + e[i]) >>> 0;
          }
          const decoded = decodeUpdateSum(
            sum,
            { privacy: local, encoding: { clip: 1, scaleBits: 16 }, model },
            deltas.length,
          );
          if (decoded.mode !== 'local') throw new Error('mode');
          for (let i = 0; i < 10; i++) {
            const mean = deltas.reduce((a, d) => a + d[i], 0) / deltas.length;
            expect(Math.abs(decoded.meanDelta[i] - mean)).toBeLessThan(2 ** -16);
          }
        },
      ),
    );
  });

  it('distributed mode: the last coordinate is countWeight x batch, and negative sums wrap correctly', () => {
    const bits = distributed.mode === 'distributed' ? distributed.distributed.scaleBits : 0;
    expect(updateVectorLength(distributed, 10)).toBe(11);
    const gradient = [-3.5, 2, 0, 0, 1, -1, 0.25, 0, 0, 7];
    const sum = encode([...gradient, 0.25 * 42], bits);
    const decoded = decodeUpdateSum(sum, { privacy: distributed, encoding: { clip: 256, scaleBits: 16 }, model }, 3);
    if (decoded.mode !== 'distributed') throw new Error('mode');
    expect([...decoded.gradientSum]).toEqual(gradient);
    expect(decoded.noisyBatchSize).toBe(42);
    expect(distributedGradientClip(distributed as Extract<PrivacyPlan, { mode: 'distributed' }>)).toBeCloseTo(
      Math.sqrt(1 - 0.0625),
      12,
    );
  });

  it('maps a plan to receipt terms and to the accountant phase consistently', () => {
    expect(receiptTermsOf({ mode: 'none', batchSize: 32, steps: 5 })).toBeNull();
    expect(privacyPhaseOf({ mode: 'none', batchSize: 32, steps: 5 })).toBeNull();
    expect(privacyPhaseOf(local)).toEqual({ sampleRate: 0.1, noiseMultiplier: 1.1, steps: 2 });
    const terms = receiptTermsOf(distributed)!;
    const phase = privacyPhaseOf(distributed)!;
    expect(terms.distributed!.granularity).toBe(2 ** 14);
    expect(phase.mechanism!.granularity).toBe(2 ** -14);
    expect(phase.mechanism!.localSigma ** 2).toBeCloseTo(terms.distributed!.localNoiseVariance, 6);
    expect(phase.mechanism!.minClients).toBe(terms.distributed!.minNoisyClients);
    expect(phase.mechanism!.dimension).toBe(11);
  });
});

describe('socket parser', () => {
  it('decodes a packet with more binary attachments than socket.io-parser’s default of 10 (a 20-site key roster)', async () => {
    const { Encoder } = await import('socket.io-parser');
    const { concordSocketParser, MAX_ATTACHMENTS } = await import('../src/index.js');
    const advertisements = Array.from({ length: 20 }, (_, i) => ({
      clientId: `s${i}`,
      encryptionPublicKey: new Uint8Array(32).fill(i),
      maskingPublicKey: new Uint8Array(32).fill(i + 1),
      signature: new Uint8Array(64).fill(i + 2),
    }));
    const parts = new Encoder().encode({ type: 2, nsp: '/agents', data: ['secagg:key-roster', { advertisements }] });
    const decoder = new concordSocketParser.Decoder();
    const decoded = new Promise<{ data: [string, { advertisements: typeof advertisements }] }>((resolve) =>
      decoder.on('decoded', resolve),
    );
    for (const part of parts) decoder.add(part);
    const packet = await decoded;
    expect(packet.data[1].advertisements[19].signature).toEqual(new Uint8Array(64).fill(21));
    expect(MAX_ATTACHMENTS).toBeGreaterThanOrEqual(3 * 1000);
  });

  it('sends a packet with binary fields as ONE frame and decodes the same packet (issue 20)', async () => {
    const { concordSocketParser, unpackPacket } = await import('../src/index.js');
    const advertisements = Array.from({ length: 20 }, (_, i) => ({
      clientId: `s${i}`,
      encryptionPublicKey: new Uint8Array(32).fill(i),
      signature: new Uint8Array(64 + (i % 3)).fill(i + 2), // lengths differ: the table must keep them apart
    }));
    const weights = new Float32Array([1.5, -2, 3]);
    const data = ['secagg:key-roster', { advertisements, empty: new Uint8Array(0), weights: weights.buffer }];
    const parts = new concordSocketParser.Encoder().encode({ type: 2, nsp: '/agents', data, id: 7 });
    expect(parts).toHaveLength(1); // 42 binary fields, one frame (socket.io-parser alone: 43 frames)
    expect(unpackPacket(parts[0])!.header).toMatch(/^542-\/agents,7\[/);
    const decoder = new concordSocketParser.Decoder();
    const decoded = new Promise<{ id: number; data: [string, Record<string, unknown>] }>((resolve) =>
      decoder.on('decoded', resolve),
    );
    for (const part of parts) decoder.add(part);
    const packet = await decoded;
    expect(packet.id).toBe(7);
    const got = packet.data[1] as { advertisements: typeof advertisements; empty: Uint8Array; weights: Uint8Array };
    got.advertisements.forEach((a, i) => {
      expect(new Uint8Array(a.encryptionPublicKey)).toEqual(advertisements[i].encryptionPublicKey);
      expect(new Uint8Array(a.signature)).toEqual(advertisements[i].signature);
    });
    expect(got.empty).toHaveLength(0);
    expect(new Float32Array(new Uint8Array(got.weights).buffer)).toEqual(weights);
    // a packet without binary is socket.io-parser's, unchanged
    expect(new concordSocketParser.Encoder().encode({ type: 2, nsp: '/agents', data: ['x', 1] })).toEqual([
      '2/agents,["x",1]',
    ]);
  });

  it('refuses a packed frame whose count, lengths or header do not match it', async () => {
    const { concordSocketParser, packPacket, unpackPacket } = await import('../src/index.js');
    const frame = packPacket('52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', [
      new Uint8Array([1, 2]),
      new Uint8Array([3]),
    ]);
    expect(unpackPacket(frame)!.buffers.map((b) => [...b])).toEqual([[1, 2], [3]]);
    expect(unpackPacket(new Uint8Array(16))).toBeUndefined(); // no magic: a stock attachment
    expect(() => unpackPacket(frame.subarray(0, frame.length - 1))).toThrow(/truncated/);
    expect(() => unpackPacket(Buffer.concat([frame, Buffer.from([0])]))).toThrow(/trailing/);
    expect(() => unpackPacket(frame, 1)).toThrow(/count/);
    const lying = packPacket('53-["e"]', [new Uint8Array([1]), new Uint8Array([2])]); // declares 3, carries 2
    expect(() => new concordSocketParser.Decoder().add(lying)).toThrow(/attachments/);
  });
});
