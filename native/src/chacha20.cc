// ChaCha20 per RFC 8439. The scalar block function is the specification; the vector path runs 16 blocks
// side by side (one block per 32-bit lane, state word w of all blocks in vector w), then transposes the
// 16x16 word matrix so each vector holds one block's keystream in order. Written by hand because no library
// on this machine offers a fused "keystream added into a buffer mod 2^32" (OpenSSL's EVP XORs, and XOR is not
// the group operation secure aggregation needs).
#include "chacha20.h"
#include "chacha20_simd.h"

namespace concord {

static CONCORD_INLINE uint32_t rotl32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

ChachaKey chacha_key(const uint8_t seed[32], uint32_t nonce0, uint32_t nonce1, uint32_t nonce2) {
  ChachaKey k;
  for (int i = 0; i < 8; i++)
    k.key[i] = uint32_t(seed[4 * i]) | uint32_t(seed[4 * i + 1]) << 8 | uint32_t(seed[4 * i + 2]) << 16 |
               uint32_t(seed[4 * i + 3]) << 24;
  k.nonce[0] = nonce0;
  k.nonce[1] = nonce1;
  k.nonce[2] = nonce2;
  return k;
}

void chacha20_block(const ChachaKey& k, uint32_t counter, uint32_t out[16]) {
#define ROTL(x, n) rotl32(x, n)
  const uint32_t in[16] = {0x61707865u, 0x3320646eu, 0x79622d32u, 0x6b206574u, k.key[0],   k.key[1],
                           k.key[2],    k.key[3],    k.key[4],    k.key[5],    k.key[6],   k.key[7],
                           counter,     k.nonce[0],  k.nonce[1],  k.nonce[2]};
  uint32_t x[16];
  for (int i = 0; i < 16; i++) x[i] = in[i];
  for (int r = 0; r < 10; r++) {
    CONCORD_QR(x[0], x[4], x[8], x[12])
    CONCORD_QR(x[1], x[5], x[9], x[13])
    CONCORD_QR(x[2], x[6], x[10], x[14])
    CONCORD_QR(x[3], x[7], x[11], x[15])
    CONCORD_QR(x[0], x[5], x[10], x[15])
    CONCORD_QR(x[1], x[6], x[11], x[12])
    CONCORD_QR(x[2], x[7], x[8], x[13])
    CONCORD_QR(x[3], x[4], x[9], x[14])
  }
#undef ROTL
  for (int i = 0; i < 16; i++) out[i] = x[i] + in[i];
}

// 16 blocks with counters counter..counter+15; out[b] = block b (16 words, keystream order).
static CONCORD_INLINE void blocks16(const ChachaKey& k, uint32_t counter, u32x16 out[16]) {
  u32x16 m[16];
  chacha20_state<u32x16>(k, counter, m);
  // Transpose by four rounds of "zip rows i and i+8": each round rotates the 8-bit (row, column) address left
  // by one bit, so four rounds swap row and column.
  const u32x16 lo = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
  const u32x16 hi = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  for (int round = 0; round < 4; round++) {
    u32x16 t[16];
    for (int i = 0; i < 8; i++) {
      t[2 * i] = __builtin_shuffle(m[i], m[i + 8], lo);
      t[2 * i + 1] = __builtin_shuffle(m[i], m[i + 8], hi);
    }
    for (int i = 0; i < 16; i++) m[i] = t[i];
  }
  for (int i = 0; i < 16; i++) out[i] = m[i];
}

// 8 blocks with 8-lane vectors (AVX2): lo[b] = words 0..7 of block b, hi[b] = words 8..15. Two 8x8
// transposes by three zip rounds each (rows i and i+4), the 8-lane analogue of blocks16.
static CONCORD_INLINE void blocks8(const ChachaKey& k, uint32_t counter, u32x8 lo[8], u32x8 hi[8]) {
  u32x8 m[16];
  chacha20_state<u32x8>(k, counter, m);
  const u32x8 zl = {0, 8, 1, 9, 2, 10, 3, 11};
  const u32x8 zh = {4, 12, 5, 13, 6, 14, 7, 15};
  for (int half = 0; half < 2; half++) {
    u32x8* r = m + 8 * half;
    for (int round = 0; round < 3; round++) {
      u32x8 t[8];
      for (int i = 0; i < 4; i++) {
        t[2 * i] = __builtin_shuffle(r[i], r[i + 4], zl);
        t[2 * i + 1] = __builtin_shuffle(r[i], r[i + 4], zh);
      }
      for (int i = 0; i < 8; i++) r[i] = t[i];
    }
  }
  for (int b = 0; b < 8; b++) {
    lo[b] = m[b];
    hi[b] = m[8 + b];
  }
}

static CONCORD_INLINE void keystream8_body(const ChachaKey& k, uint32_t counter, size_t groups, uint32_t* out) {
  for (size_t g = 0; g < 2 * groups; g++) {
    u32x8 lo[8], hi[8];
    blocks8(k, counter + uint32_t(8 * g), lo, hi);
    for (int b = 0; b < 8; b++) {
      store_vec(out + 128 * g + 16 * b, lo[b]);
      store_vec(out + 128 * g + 16 * b + 8, hi[b]);
    }
  }
}

static CONCORD_INLINE void mask8_body(const ChachaKey& k, uint32_t counter, size_t groups, uint32_t* acc,
                                      bool subtract) {
  for (size_t g = 0; g < 2 * groups; g++) {
    u32x8 lo[8], hi[8];
    blocks8(k, counter + uint32_t(8 * g), lo, hi);
    uint32_t* p = acc + 128 * g;
    for (int b = 0; b < 8; b++) {
      u32x8 a = load_vec<u32x8>(p + 16 * b), c = load_vec<u32x8>(p + 16 * b + 8);
      store_vec(p + 16 * b, subtract ? a - lo[b] : a + lo[b]);
      store_vec(p + 16 * b + 8, subtract ? c - hi[b] : c + hi[b]);
    }
  }
}

static CONCORD_INLINE void keystream16_body(const ChachaKey& k, uint32_t counter, size_t groups, uint32_t* out) {
  for (size_t g = 0; g < groups; g++) {
    u32x16 b[16];
    blocks16(k, counter + uint32_t(16 * g), b);
    for (int i = 0; i < 16; i++) store_vec(out + 256 * g + 16 * i, b[i]);
  }
}

static CONCORD_INLINE void mask16_body(const ChachaKey& k, uint32_t counter, size_t groups, uint32_t* acc,
                                       bool subtract) {
  for (size_t g = 0; g < groups; g++) {
    u32x16 b[16];
    blocks16(k, counter + uint32_t(16 * g), b);
    uint32_t* p = acc + 256 * g;
    if (subtract)
      for (int i = 0; i < 16; i++) store_vec(p + 16 * i, load_vec<u32x16>(p + 16 * i) - b[i]);
    else
      for (int i = 0; i < 16; i++) store_vec(p + 16 * i, load_vec<u32x16>(p + 16 * i) + b[i]);
  }
}

CONCORD_TARGET_AVX512 static void keystream16_avx512(const ChachaKey& k, uint32_t c, size_t g, uint32_t* o) {
  keystream16_body(k, c, g, o);
}
CONCORD_TARGET_AVX2 static void keystream16_avx2(const ChachaKey& k, uint32_t c, size_t g, uint32_t* o) {
  keystream8_body(k, c, g, o);
}
CONCORD_TARGET_AVX512 static void mask16_avx512(const ChachaKey& k, uint32_t c, size_t g, uint32_t* a, bool s) {
  mask16_body(k, c, g, a, s);
}
CONCORD_TARGET_AVX2 static void mask16_avx2(const ChachaKey& k, uint32_t c, size_t g, uint32_t* a, bool s) {
  mask8_body(k, c, g, a, s);
}

static void check_counter(uint32_t counter, size_t nblocks) {
  if (uint64_t(counter) + uint64_t(nblocks) > (uint64_t(1) << 32))
    throw KernelError("E_RANGE", "ChaCha20 block counter would wrap (over 2^32 blocks from one key and nonce)");
}

void chacha20_keystream(const ChachaKey& k, uint32_t counter, size_t nblocks, uint32_t* out) {
  check_counter(counter, nblocks);
  size_t groups = 0;
  SimdLevel level = simd_level();
  if (level != SimdLevel::Generic) {
    groups = nblocks / 16;
    if (level == SimdLevel::Avx512)
      keystream16_avx512(k, counter, groups, out);
    else
      keystream16_avx2(k, counter, groups, out);
  }
  for (size_t b = groups * 16; b < nblocks; b++) chacha20_block(k, counter + uint32_t(b), out + 16 * b);
}

void chacha20_mask_add(const ChachaKey& k, uint32_t* acc, size_t nwords, bool subtract) {
  size_t nblocks = (nwords + 15) / 16;
  check_counter(0, nblocks);
  size_t full = nwords / 16, groups = 0;
  SimdLevel level = simd_level();
  if (level != SimdLevel::Generic) {
    groups = full / 16;
    if (level == SimdLevel::Avx512)
      mask16_avx512(k, 0, groups, acc, subtract);
    else
      mask16_avx2(k, 0, groups, acc, subtract);
  }
  uint32_t block[16];
  for (size_t b = groups * 16; b < nblocks; b++) {
    chacha20_block(k, uint32_t(b), block);
    size_t n = nwords - 16 * b < 16 ? nwords - 16 * b : 16;
    uint32_t* p = acc + 16 * b;
    if (subtract)
      for (size_t i = 0; i < n; i++) p[i] -= block[i];
    else
      for (size_t i = 0; i < n; i++) p[i] += block[i];
  }
}

}  // namespace concord
