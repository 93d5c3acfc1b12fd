import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPackedWords, centreModulo, packWords, SecAggError, unpackWords } from '../src/index.js';
import { makeConfig, makeIdentities, plainSum, randomInputs, runRound } from './harness.js';

const words = (bits: number, maxLength = 70) =>
  fc.array(fc.integer({ min: 0, max: 2 ** bits - 1 }), { maxLength }).map((a) => Uint32Array.from(a));

describe('packing b-bit words (issue 20)', () => {
  it('property: pack then unpack is the identity, in ceil(b d / 8) bytes, for every b in 1..32', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }).chain((bits) => fc.tuple(fc.constant(bits), words(bits))),
        ([bits, w]) => {
          const packed = packWords(w, bits);
          expect(packed.length).toBe(Math.ceil((bits * w.length) / 8));
          expect(unpackWords(packed, bits, w.length)).toEqual(w);
        },
      ),
      { numRuns: 300, seed: 20 },
    );
  });

  it('property: adding packed words into an accumulator is adding the unpacked words mod 2^32', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 32 }).chain((bits) => fc.tuple(fc.constant(bits), words(bits, 200))),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        ([bits, w], start) => {
          const acc = new Uint32Array(w.length).fill(start);
          const expected = acc.map((a, i) => (a + w[i]) >>> 0);
          expect(addPackedWords(acc, packWords(w, bits), bits)).toEqual(expected);
        },
      ),
      { numRuns: 300, seed: 21 },
    );
    const acc = new Uint32Array(3).fill(9);
    const padded = packWords(Uint32Array.from([5, 6, 7]), 5);
    padded[1] |= 0x80;
    expect(() => addPackedWords(acc, padded, 5)).toThrow(expect.objectContaining({ code: 'E_BAD_MESSAGE' }));
    expect([...acc]).toEqual([9, 9, 9]); // nothing added
  });

  it('packs only the low b bits (a 32-bit masked word reduced mod 2^b)', () => {
    const w = Uint32Array.from([0xffffffff, 0x12345678, 0x80000001]);
    expect(unpackWords(packWords(w, 12), 12, 3)).toEqual(Uint32Array.from([0xfff, 0x678, 0x001]));
  });

  it('at b = 32 the bytes are the little-endian uint32 layout of before', () => {
    const w = Uint32Array.from([1, 0x01020304]);
    expect([...packWords(w, 32)]).toEqual([1, 0, 0, 0, 4, 3, 2, 1]);
  });

  it('refuses a wrong length (E_BAD_LENGTH) and non-zero padding bits (E_BAD_MESSAGE)', () => {
    const packed = packWords(Uint32Array.from([5, 6, 7]), 5); // 15 bits in 2 bytes, 1 padding bit
    expect(() => unpackWords(packed.subarray(0, 1), 5, 3)).toThrow(expect.objectContaining({ code: 'E_BAD_LENGTH' }));
    expect(() => unpackWords(new Uint8Array(3), 5, 3)).toThrow(expect.objectContaining({ code: 'E_BAD_LENGTH' }));
    const padded = packed.slice();
    padded[1] |= 0x80;
    expect(() => unpackWords(padded, 5, 3)).toThrow(SecAggError);
    expect(() => unpackWords(padded, 5, 3)).toThrow(expect.objectContaining({ code: 'E_BAD_MESSAGE' }));
  });

  it('property: the centred sum mod 2^b of signed values in range is their exact sum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 32 }).chain((bits) => {
          const n = 5;
          const per = Math.floor((2 ** (bits - 1) - 1) / n); // n values of |v| <= per cannot leave the range
          return fc.tuple(
            fc.constant(bits),
            fc.array(fc.array(fc.integer({ min: -per, max: per }), { minLength: 8, maxLength: 8 }), {
              minLength: n,
              maxLength: n,
            }),
          );
        }),
        ([bits, values]) => {
          const acc = new Uint32Array(8);
          for (const v of values) {
            // each site's word as the client sends it: two's complement, then its low b bits on the wire
            const sent = unpackWords(
              packWords(
                Uint32Array.from(v, (x) => x >>> 0),
                bits,
              ),
              bits,
              8,
            );
            for (let i = 0; i < 8; i++) acc[i] = (acc[i] + sent[i]) >>> 0;
          }
          const got = Array.from(centreModulo(acc, bits), (w) => w | 0);
          const want = values[0].map((_, i) => values.reduce((s, v) => s + v[i], 0));
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 200, seed: 21 },
    );
  });
});

describe('SecAgg+ rounds mod 2^b (issue 20)', () => {
  for (const bits of [9, 17, 31]) {
    it(`b = ${bits}: the packed masked inputs sum to the inputs' sum mod 2^${bits}, with dropouts`, async () => {
      const ids = makeIdentities(8, `bits-${bits}`);
      const d = 29;
      const config = { ...makeConfig(ids, { threshold: 4, neighbours: 6, vectorLength: d }), modulusBits: bits };
      const inputs = randomInputs(ids, d, `bits-${bits}`);
      const drops = new Map([
        [ids[1].clientId, 2], // shared keys, no input: its pair masks are removed mod 2^b
        [ids[6].clientId, 4], // sent its input, did not unmask
      ]);
      const sizes: number[] = [];
      const run = await runRound(config, ids, inputs, drops, {
        label: `bits-${bits}`,
        tap: (m) => {
          const masked = (m as { stage?: string; maskedInput?: Uint8Array }).maskedInput;
          if (masked) sizes.push(masked.length);
        },
      });
      expect(run.outcome.status).toBe('done');
      expect(sizes.length).toBe(7);
      for (const size of sizes) expect(size).toBe(Math.ceil((bits * d) / 8));
      const inSum = ids.map((i) => i.clientId).filter((id) => id !== ids[1].clientId);
      const expected = centreModulo(plainSum(inputs, inSum, d), bits);
      expect(run.server.result()).toEqual(expected);
    });
  }

  it('the server refuses a 32-bit masked input in a b-bit round (E_BAD_LENGTH), then takes the packed one', async () => {
    const ids = makeIdentities(4, 'bits-wrong');
    const d = 10;
    const config = { ...makeConfig(ids, { threshold: 3, neighbours: 3, vectorLength: d }), modulusBits: 12 };
    const inputs = randomInputs(ids, d, 'bits-wrong');
    const run = await runRound(config, ids, inputs, new Map(), { label: 'bits-wrong', until: 2 });
    expect(run.server.currentStage).toBe('masked-input');
    if (run.outcome.status !== 'next') throw new Error('the round should be at the masked-input stage');
    const id = ids[0].clientId;
    const reply = await run.clients.get(id)!.maskedInput(run.outcome.messages.get(id), inputs.get(id)!);
    expect(reply.maskedInput.length).toBe(15); // ceil(12 x 10 / 8)
    const wide = { ...reply, maskedInput: new Uint8Array(4 * d) };
    expect(() => run.server.receive(wide, 0)).toThrow(expect.objectContaining({ code: 'E_BAD_LENGTH' }));
    run.server.receive(reply, 0);
    expect(run.server.pending).not.toContain(id);
  });
});
