#include "quantize.h"

#include <cmath>

namespace concord {

template <class T>
static void quantize_values(const ChachaKey& k, const T* values, size_t count, double clip, int scale_bits,
                            uint32_t* out) {
  constexpr size_t kBlocks = 16, kPerBatch = kBlocks * 8;  // 8 elements per 64-byte block
  uint32_t words[kBlocks * 16];
  const double scale = std::ldexp(1.0, scale_bits);
  for (size_t base = 0; base < count; base += kPerBatch) {
    size_t n = count - base < kPerBatch ? count - base : kPerBatch;
    uint64_t first_block = base / 8;
    if (first_block + kBlocks > (uint64_t(1) << 32)) throw KernelError("E_RANGE", "too many values for one stream");
    chacha20_keystream(k, uint32_t(first_block), (n + 7) / 8, words);
    for (size_t i = 0; i < n; i++) {
      double x = values[base + i];
      if (!std::isfinite(x)) throw KernelError("E_NON_FINITE", "values contains NaN or Infinity");
      x = x < -clip ? -clip : (x > clip ? clip : x);
      double v = x * scale, f = std::floor(v), frac = v - f;
      uint64_t u = (uint64_t(words[2 * i]) | uint64_t(words[2 * i + 1]) << 32) >> 11;
      int64_t r = int64_t(f) + (double(u) < frac * 0x1p53 ? 1 : 0);
      out[base + i] = uint32_t(r);
    }
  }
}

void quantize(const ChachaKey& k, const float* values, size_t count, double clip, int scale_bits, uint32_t* out) {
  quantize_values(k, values, count, clip, scale_bits, out);
}

void quantize(const ChachaKey& k, const double* values, size_t count, double clip, int scale_bits, uint32_t* out) {
  quantize_values(k, values, count, clip, scale_bits, out);
}

}  // namespace concord
