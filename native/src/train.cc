// DP-SGD (Abadi et al. 2016, "Deep Learning with Differential Privacy", Algorithm 1) with Poisson
// subsampling as analysed by the RDP accountant (Mironov, Talwar, Zhang 2019), and ghost clipping so that no
// per-example gradient is ever materialised: memory is O(chunk x width + parameters).
#include "train.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "csprng.h"
#include "gaussian.h"

namespace concord {

constexpr int kMaxChunk = 1024;  // examples per forward/backward pass at most
constexpr int kEvalChunk = 256;

static void gather_rows(const float* src, const std::vector<uint32_t>& idx, size_t from, int rows, int width,
                        float* dst) {
  for (int r = 0; r < rows; r++)
    std::memcpy(dst + size_t(r) * width, src + size_t(idx[from + r]) * width, sizeof(float) * width);
}

// out[j] = (grid * rint((sum_j + std z_j) / grid)) / divisor, in double: the released noisy sum lies on a
// power-of-two grid independent of the data (snapping, Mironov 2012 section 5.2); dividing by the expected
// batch size afterwards is post-processing.
static CONCORD_INLINE void dp_combine_body(size_t n, float* g, const float* z, double std, double grid,
                                           double divisor) {
  const double inv_grid = 1.0 / grid, post = grid / divisor;
  for (size_t j = 0; j < n; j++) g[j] = float(__builtin_rint((double(g[j]) + std * z[j]) * inv_grid) * post);
}
CONCORD_TARGET_AVX512 static void dp_combine_avx512(size_t n, float* g, const float* z, double s, double gr,
                                                    double d) {
  dp_combine_body(n, g, z, s, gr, d);
}
CONCORD_TARGET_AVX2 static void dp_combine_avx2(size_t n, float* g, const float* z, double s, double gr, double d) {
  dp_combine_body(n, g, z, s, gr, d);
}
static void dp_combine_dispatch(size_t n, float* g, const float* z, double s, double gr, double d) {
  switch (simd_level()) {
    case SimdLevel::Avx512: dp_combine_avx512(n, g, z, s, gr, d); break;
    case SimdLevel::Avx2: dp_combine_avx2(n, g, z, s, gr, d); break;
    default: dp_combine_body(n, g, z, s, gr, d);
  }
}

// Noise for one step, fused with the combine: coordinates are split across the pool in whole 160-sample
// chunks, each thread draws its chunks' noise (stream position depends only on the coordinate, so the result
// does not depend on the thread count) into a small buffer and adds it at once: no O(parameters) noise array.
static void add_noise(ThreadPool& pool, const ChachaKey& key, size_t P, float* g, double std, double grid,
                      double divisor) {
  const size_t chunks = (P + kGaussGroup - 1) / kGaussGroup;
  const int parts = pool.size();
  pool.run([&](int part) {
    constexpr size_t kBlockChunks = 32;  // 5120 samples, 20 KiB
    float z[kBlockChunks * kGaussGroup];
    size_t c0 = chunks * part / parts, c1 = chunks * (part + 1) / parts;
    for (size_t c = c0; c < c1; c += kBlockChunks) {
      size_t ce = c + kBlockChunks < c1 ? c + kBlockChunks : c1;
      size_t s0 = c * kGaussGroup, s1 = ce * kGaussGroup < P ? ce * kGaussGroup : P;
      gaussian_fill(key, c, s1 - s0, z);
      dp_combine_dispatch(s1 - s0, g + s0, z, std, grid, divisor);
    }
  });
}

// Heavy-ball SGD as in torch.optim.SGD (dampening 0): v = m v + g (+ mu (w - w0)); w -= lr v.
static void sgd_update(size_t n, float* w, float* v, const float* g, const float* w0, float lr, float m, float mu) {
  for (size_t j = 0; j < n; j++) {
    float grad = g[j] + mu * (w[j] - w0[j]);
    v[j] = m * v[j] + grad;
    w[j] -= lr * v[j];
  }
}

// sum += sum over the chunk's rows of min(1, C / ||g_i||) g_i, in double: the clip factor from the double norm, each
// per-example gradient entry (delta_i outer activation_i, and delta_i for biases) widened to double before the
// product. O(rows x parameters) scalar work, once per distributed round: exactness over speed here, because
// this sum is what the accountant's sensitivity C 2^s + sqrt(d) is about.
static void accumulate_clipped_sum_double(const ModelSpec& spec, double clip, int rows, const Workspace& ws,
                                          double* sum) {
  std::vector<double> factor(static_cast<size_t>(rows)), dd;
  for (int i = 0; i < rows; i++) {
    const double norm = std::sqrt(ws.norm2[i]);
    factor[i] = norm > clip ? clip / norm : 1.0;
  }
  for (int l = 0; l < spec.layers(); l++) {
    const int in = spec.in(l), out = spec.units[l];
    const float* d = ws.delta[l].data();
    const float* a = l == 0 ? ws.x.data() : ws.act[l - 1].data();
    double* gw = sum + spec.weight_offset[l];
    double* gb = sum + spec.bias_offset[l];
    dd.resize(size_t(out));
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < out; j++) dd[j] = factor[i] * double(d[size_t(i) * out + j]);
      const float* ai = a + size_t(i) * in;
      for (int j = 0; j < out; j++) {
        const double dj = dd[j];
        if (dj == 0.0) continue;
        double* row = gw + size_t(j) * in;
        for (int k = 0; k < in; k++) row[k] += dj * double(ai[k]);
        gb[j] += dj;
      }
    }
  }
}

// Class weight before clipping: the loss gradient of an example of the positive class is scaled by w. Scaling the
// output delta scales every layer's per-example gradient (backward is linear in it), so the ghost norms and the
// clip factors computed after it see the weighted gradient and the clipped norm stays <= C whatever w is.
static void weight_output_delta(const ModelSpec& spec, double weight, const float* labels, int rows, Workspace& ws) {
  if (spec.loss != LossKind::SigmoidBinaryCrossEntropy)
    throw KernelError("E_INVALID_ARGUMENT", "a class weight needs the sigmoid binary cross-entropy loss");
  const int k = spec.outputs();
  float* d = ws.delta.back().data();
  for (size_t j = 0; j < size_t(rows) * k; j++) d[j] = float(double(d[j]) * (1.0 + (weight - 1.0) * labels[j]));
}

TrainStats train_local(const TrainConfig& cfg, float* delta) {
  const ModelSpec& spec = *cfg.spec;
  const size_t P = spec.parameters, n = cfg.examples;
  const int in = spec.input;
  const size_t label_width = spec.loss == LossKind::SoftmaxCrossEntropy ? 1 : size_t(spec.outputs());
  ThreadPool pool(cfg.threads);

  std::vector<float> w(cfg.weights, cfg.weights + P), v(P, 0.0f), g(P);
  std::vector<uint32_t> batch, canary_hits;
  // Chunk capacity: the whole batch when it is small enough (one pass over the weights per step), a Poisson
  // batch's mean plus 6 standard deviations in DP mode; larger batches are processed in several chunks.
  double expected = cfg.dp ? cfg.sample_rate * double(n) + 6.0 * std::sqrt(cfg.sample_rate * double(n)) + 8.0
                           : double(cfg.batch_size);
  const int capacity = int(std::max(1.0, std::min({expected, double(n), double(kMaxChunk)})));
  std::vector<float> scale(capacity), lab(size_t(capacity) * label_width);
  Workspace ws(spec, capacity);

  // Non-private batches: a fresh uniform permutation per epoch (Fisher-Yates), consecutive slices of it.
  std::vector<uint32_t> perm;
  size_t perm_pos = n;
  uint32_t epoch = 0;
  uint64_t threshold = cfg.sample_rate >= 1.0 ? ~uint64_t(0) : uint64_t(std::ldexp(cfg.sample_rate, 64));
  const double std_dev = cfg.noise_multiplier * cfg.clip_norm;
  const double grid = std_dev > 0 ? gaussian_grid(std_dev) : 0.0;

  double loss_sum = 0, examples_seen = 0, clipped = 0;
  if (cfg.clipped_sum) {
    if (!cfg.dp || cfg.steps != 1) throw KernelError("E_RANGE", "clipped_sum needs DP mode and one step");
    std::fill(cfg.clipped_sum, cfg.clipped_sum + P, 0.0);
  }
  for (int step = 0; step < cfg.steps; step++) {
    batch.clear();
    if (cfg.dp) {
      Csprng rng(chacha_key(cfg.seed.data(), kStreamPoisson, uint32_t(step), 0));
      for (size_t i = 0; i < n; i++) {
        uint64_t u = rng.next_u64();
        if (cfg.sample_rate >= 1.0 || u < threshold) batch.push_back(uint32_t(i));
      }
      canary_hits.clear();  // audit canaries: the same sampler, the same stream, after the real records
      for (size_t c = 0; c < cfg.canaries; c++) {
        uint64_t u = rng.next_u64();
        if (cfg.sample_rate >= 1.0 || u < threshold) canary_hits.push_back(uint32_t(c));
      }
    } else {
      size_t b = size_t(cfg.batch_size) < n ? size_t(cfg.batch_size) : n;
      if (perm_pos + b > n) {
        Csprng rng(chacha_key(cfg.seed.data(), kStreamShuffle, epoch++, 0));
        perm.resize(n);
        for (size_t i = 0; i < n; i++) perm[i] = uint32_t(i);
        for (size_t i = n; i > 1; i--) std::swap(perm[i - 1], perm[rng.uniform_below(uint32_t(i))]);
        perm_pos = 0;
      }
      batch.assign(perm.begin() + perm_pos, perm.begin() + perm_pos + b);
      perm_pos += b;
    }

    {
      std::fill(g.begin(), g.end(), 0.0f);
      for (size_t from = 0; from < batch.size(); from += size_t(capacity)) {
        int rows = int(batch.size() - from < size_t(capacity) ? batch.size() - from : size_t(capacity));
        gather_rows(cfg.features, batch, from, rows, in, ws.x.data());
        gather_rows(cfg.labels, batch, from, rows, int(label_width), lab.data());
        forward(spec, w.data(), rows, ws, &pool);
        loss_and_output_delta(spec, lab.data(), rows, ws);
        if (cfg.positive_weight != 1.0) weight_output_delta(spec, cfg.positive_weight, lab.data(), rows, ws);
        backward(spec, w.data(), rows, ws, &pool);
        for (int i = 0; i < rows; i++) {
          loss_sum += ws.loss[i];
          double norm = std::sqrt(ws.norm2[i]);
          if (cfg.dp && norm > cfg.clip_norm) {
            scale[i] = float(cfg.clip_norm / norm);
            clipped++;
          } else {
            scale[i] = 1.0f;
          }
        }
        examples_seen += rows;
        // before accumulate_gradient, which scales ws.delta in place by the float factors
        if (cfg.clipped_sum) accumulate_clipped_sum_double(spec, cfg.clip_norm, rows, ws, cfg.clipped_sum);
        accumulate_gradient(spec, scale.data(), rows, ws, g.data(), &pool);
      }
      // A sampled canary adds its clipped gradient, C on its own coordinate, to the sum before the noise.
      for (uint32_t c : canary_hits) g[cfg.canary_coordinate[c]] += float(cfg.clip_norm);
      if (cfg.clipped_sum)
        for (uint32_t c : canary_hits) cfg.clipped_sum[cfg.canary_coordinate[c]] += cfg.clip_norm;
      examples_seen += double(canary_hits.size());
    }

    if (cfg.dp) {
      const double divisor = cfg.sample_rate * double(n);  // expected batch size q n
      if (std_dev > 0) {
        add_noise(pool, chacha_key(cfg.seed.data(), kStreamDpNoise, uint32_t(step), 0), P, g.data(), std_dev, grid,
                  divisor);
      } else {
        for (size_t j = 0; j < P; j++) g[j] = float(g[j] / divisor);
      }
    } else if (!batch.empty()) {
      const float inv = 1.0f / float(batch.size());
      for (size_t j = 0; j < P; j++) g[j] *= inv;
    }
    sgd_update(P, w.data(), v.data(), g.data(), cfg.weights, float(cfg.learning_rate), float(cfg.momentum),
               float(cfg.proximal_mu));
  }

  bool finite = true;
  for (size_t j = 0; j < P; j++) {
    delta[j] = w[j] - cfg.weights[j];
    finite = finite && std::isfinite(delta[j]);
  }
  if (!finite) throw KernelError("E_NON_FINITE", "training diverged: the update contains NaN or Infinity");
  TrainStats s;
  s.steps = cfg.steps;
  s.mean_batch_size = cfg.steps ? examples_seen / cfg.steps : 0;
  s.fraction_clipped = examples_seen > 0 ? clipped / examples_seen : 0;
  s.loss = examples_seen > 0 ? loss_sum / examples_seen : std::nan("");
  return s;
}

template <class Fn>
static void for_chunks(const ModelSpec& spec, const float* weights, const float* features, size_t n, int threads,
                       Fn&& fn) {
  ThreadPool pool(threads);
  Workspace ws(spec, kEvalChunk);
  for (size_t from = 0; from < n; from += kEvalChunk) {
    int rows = int(n - from < size_t(kEvalChunk) ? n - from : size_t(kEvalChunk));
    std::memcpy(ws.x.data(), features + from * spec.input, sizeof(float) * rows * spec.input);
    forward(spec, weights, rows, ws, &pool);
    fn(from, rows, ws);
  }
}

void evaluate_model(const ModelSpec& spec, const float* weights, const float* features, const float* labels,
                    size_t n, int threads, double* loss, double* accuracy) {
  const size_t lw = spec.loss == LossKind::SoftmaxCrossEntropy ? 1 : size_t(spec.outputs());
  double loss_sum = 0, correct = 0;
  for_chunks(spec, weights, features, n, threads, [&](size_t from, int rows, Workspace& ws) {
    correct += loss_and_output_delta(spec, labels + from * lw, rows, ws);
    for (int i = 0; i < rows; i++) loss_sum += ws.loss[i];
  });
  *loss = n ? loss_sum / n : std::nan("");
  *accuracy = n ? correct / n : std::nan("");
}

void predict_model(const ModelSpec& spec, const float* weights, const float* features, size_t n, int threads,
                   float* out) {
  const size_t k = spec.outputs();
  for_chunks(spec, weights, features, n, threads, [&](size_t from, int rows, Workspace& ws) {
    std::memcpy(out + from * k, ws.act.back().data(), sizeof(float) * rows * k);
  });
}

}  // namespace concord
