#pragma once
#include "chacha20.h"

namespace concord {

// Fixed-point encoding into Z_{2^32}: v = clamp(x, -clip, clip) * 2^scale_bits (exact in double), then
// stochastic rounding floor(v) + [u < frac(v)] with u uniform on [0, 1) in steps of 2^-53, where
// u = (w_{2i} | w_{2i+1} << 32) >> 11 / 2^53 for element i (stream words 2i, 2i+1). E[result] = v up to 2^-53.
// The integer is stored in two's complement. Requires clip * 2^scale_bits < 2^31 (checked by the facade).
void quantize(const ChachaKey& k, const float* values, size_t count, double clip, int scale_bits, uint32_t* out);
// The same for double values (a site's clipped sum accumulated in double, train.h `clipped_sum`): same stream, same
// rounding, so a float value and its double widening round identically under one seed.
void quantize(const ChachaKey& k, const double* values, size_t count, double clip, int scale_bits, uint32_t* out);

}  // namespace concord
