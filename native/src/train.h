#pragma once
#include <array>

#include "model.h"

namespace concord {

struct TrainConfig {
  const ModelSpec* spec;
  const float* weights;   // parameters, read only
  const float* features;  // n x input
  const float* labels;    // n (softmax-CE) or n x outputs
  size_t examples;
  int steps;
  double learning_rate, momentum, proximal_mu;
  bool dp;
  double sample_rate, noise_multiplier, clip_norm;  // dp
  int batch_size;                                   // non-private
  // Sigmoid binary cross-entropy only: output j's dLoss/dZ of an example is multiplied by 1 + (w - 1) t_j (w for a
  // label 1, 1 for a label 0) BEFORE the per-example norm and clipping, so the clipped gradient's norm stays <= C.
  double positive_weight = 1.0;
  std::array<uint8_t, 32> seed;
  int threads;
  // Privacy audit only (native/lib/audit.ts; the training facade never sets them): `canaries` virtual records
  // numbered n..n+canaries-1, Poisson-sampled from the same stream right after the real ones; canary c's clipped
  // per-example gradient is clip_norm on parameter canary_coordinate[c] (a white-box "Dirac" canary).
  const uint32_t* canary_coordinate = nullptr;
  size_t canaries = 0;
  // Distributed mode (libs/secagg site-sum.ts): when set (DP, one step), the step's sum of clipped per-example
  // gradients is also written here, with each clip factor min(1, C / ||g_i||) computed and every product and sum
  // accumulated in double, straight from the per-example gradients (never rebuilt from the float32 weight update,
  // whose rounding at weights of std 0.5 and batch 3,000 moved the sum by more than C 2^s + sqrt(d) allows).
  double* clipped_sum = nullptr;
};

struct TrainStats {
  int steps = 0;
  double mean_batch_size = 0, fraction_clipped = 0, loss = 0;
};

// One local training run; writes delta = w_after - w_before (parameters floats). See native/README.md for the
// exact DP-SGD semantics and the random streams.
TrainStats train_local(const TrainConfig& cfg, float* delta);

// Mean loss and accuracy over all n examples.
void evaluate_model(const ModelSpec& spec, const float* weights, const float* features, const float* labels,
                    size_t n, int threads, double* loss, double* accuracy);
void predict_model(const ModelSpec& spec, const float* weights, const float* features, size_t n, int threads,
                   float* out);

}  // namespace concord
