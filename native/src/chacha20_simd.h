// The ChaCha20 quarter round and the 16-blocks-per-vector state computation, shared by the keystream, mask
// and Gaussian kernels (header-only so that each is inlined into its SIMD-targeted caller).
#pragma once
#include "chacha20.h"

namespace concord {

#define CONCORD_QR(a, b, c, d)        \
  a += b;                             \
  d ^= a;                             \
  d = ROTL(d, 16);                    \
  c += d;                             \
  b ^= c;                             \
  b = ROTL(b, 12);                    \
  a += b;                             \
  d ^= a;                             \
  d = ROTL(d, 8);                     \
  c += d;                             \
  b ^= c;                             \
  b = ROTL(b, 7);

typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef int32_t i32x8 __attribute__((vector_size(32)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef float f32x4 __attribute__((vector_size(16)));

// Rotations by 16 and 8 move whole bytes: on 8-lane (AVX2) vectors one vpshufb instead of shift, shift, or (AVX2
// has no vector rotate; AVX-512's vprold comes from the shift-or idiom, and the 4-lane baseline has no pshufb).
template <int N, class U>
CONCORD_INLINE U vrotl_const(U x) {
  if constexpr (sizeof(U) == 32 && (N == 16 || N == 8)) {
    typedef uint8_t Bytes __attribute__((vector_size(32)));
    // little endian: byte j of lane i comes from byte (j - N/8) mod 4 of the same lane
    constexpr int k = N / 8;
    const Bytes order = {
        (4 - k) % 4,      (5 - k) % 4,      (6 - k) % 4,      (7 - k) % 4,
        4 + (4 - k) % 4,  4 + (5 - k) % 4,  4 + (6 - k) % 4,  4 + (7 - k) % 4,
        8 + (4 - k) % 4,  8 + (5 - k) % 4,  8 + (6 - k) % 4,  8 + (7 - k) % 4,
        12 + (4 - k) % 4, 12 + (5 - k) % 4, 12 + (6 - k) % 4, 12 + (7 - k) % 4,
        16 + (4 - k) % 4, 16 + (5 - k) % 4, 16 + (6 - k) % 4, 16 + (7 - k) % 4,
        20 + (4 - k) % 4, 20 + (5 - k) % 4, 20 + (6 - k) % 4, 20 + (7 - k) % 4,
        24 + (4 - k) % 4, 24 + (5 - k) % 4, 24 + (6 - k) % 4, 24 + (7 - k) % 4,
        28 + (4 - k) % 4, 28 + (5 - k) % 4, 28 + (6 - k) % 4, 28 + (7 - k) % 4};
    return (U)__builtin_shuffle((Bytes)x, order);
  } else {
    return (x << N) | (x >> (32 - N));
  }
}

// L = lanes of U blocks side by side, untransposed: m[w] lane b = word w of the block with counter
// `counter + b` (final addition included). 16 lanes for AVX-512, 8 for AVX2, 4 for the baseline, so the 16
// state vectors fit the register file.
template <class U>
CONCORD_INLINE void chacha20_state(const ChachaKey& k, uint32_t counter, U m[16]) {
#define ROTL(x, n) vrotl_const<n>(x)
  constexpr int L = sizeof(U) / 4;
  U lane;
  for (int i = 0; i < L; i++) lane[i] = uint32_t(i);
  const U z{};
  const U in[16] = {z + 0x61707865u, z + 0x3320646eu, z + 0x79622d32u, z + 0x6b206574u,
                    z + k.key[0],    z + k.key[1],    z + k.key[2],    z + k.key[3],
                    z + k.key[4],    z + k.key[5],    z + k.key[6],    z + k.key[7],
                    lane + counter,  z + k.nonce[0],  z + k.nonce[1],  z + k.nonce[2]};
  U x0 = in[0], x1 = in[1], x2 = in[2], x3 = in[3], x4 = in[4], x5 = in[5], x6 = in[6], x7 = in[7];
  U x8 = in[8], x9 = in[9], x10 = in[10], x11 = in[11], x12 = in[12], x13 = in[13], x14 = in[14], x15 = in[15];
  for (int r = 0; r < 10; r++) {
    CONCORD_QR(x0, x4, x8, x12)
    CONCORD_QR(x1, x5, x9, x13)
    CONCORD_QR(x2, x6, x10, x14)
    CONCORD_QR(x3, x7, x11, x15)
    CONCORD_QR(x0, x5, x10, x15)
    CONCORD_QR(x1, x6, x11, x12)
    CONCORD_QR(x2, x7, x8, x13)
    CONCORD_QR(x3, x4, x9, x14)
  }
#undef ROTL
  const U x[16] = {x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15};
  for (int i = 0; i < 16; i++) m[i] = x[i] + in[i];
}

}  // namespace concord
