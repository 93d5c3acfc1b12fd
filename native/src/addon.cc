// N-API bindings. Every heavy operation is a promise-returning Napi::AsyncWorker whose Execute touches only
// C++ data and reports failure by SetError; errors reach JS with a `code` property. The TypeScript facade
// (native/lib/index.ts) validates everything first; the checks here are a second line so that a direct call
// with bad arguments is rejected instead of reading out of bounds.
//
// Buffer ownership, for every worker: input typed arrays are referenced (pinned against garbage collection)
// from construction until OnOK/OnError and are only read in Execute; output typed arrays are allocated on the
// JS thread in the constructor, written only in Execute and handed to JS in OnOK. JS must not modify, detach or
// transfer an argument's buffer while its promise is pending (the facade copies the weights it is given).
#include <napi.h>

#include <array>
#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>

#include "chacha20.h"
#include "csprng.h"
#include "gaussian.h"
#include "gemm.h"
#include "quantize.h"
#include "train.h"

namespace concord {
namespace {

Napi::Error coded_error(Napi::Env env, const std::string& code, const std::string& message, bool type = false) {
  Napi::Error e = type ? Napi::TypeError::New(env, message) : Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] void throw_arg(Napi::Env env, const std::string& message) {
  throw coded_error(env, "E_INVALID_ARGUMENT", message, true);
}

template <class T>
T typed_arg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    throw_arg(info.Env(), std::string(name) + " has the wrong type");
  return info[i].As<T>();
}

double number_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) throw_arg(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// Seed: a 32-byte Uint8Array, or undefined for OS entropy (drawn later, in Execute).
bool seed_arg(const Napi::CallbackInfo& info, size_t i, std::array<uint8_t, 32>& seed) {
  if (i >= info.Length() || info[i].IsUndefined()) return false;
  auto s = typed_arg<Napi::Uint8Array>(info, i, napi_uint8_array, "seed");
  if (s.ElementLength() != 32) throw_arg(info.Env(), "seed must be 32 bytes");
  std::memcpy(seed.data(), s.Data(), 32);
  return true;
}

ModelSpec spec_arg(const Napi::CallbackInfo& info, size_t i) {
  auto words = typed_arg<Napi::Int32Array>(info, i, napi_int32_array, "spec");
  try {
    return ModelSpec::decode(words.Data(), words.ElementLength());
  } catch (const KernelError& e) {
    throw coded_error(info.Env(), e.code, e.what(), true);
  }
}

// Base worker: resolves with Result() or rejects with a coded error.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  void Pin(Napi::Value v) { pinned_.push_back(Napi::Persistent(v.As<Napi::Object>())); }
  // Handles die with the constructor's HandleScope: results are held by a persistent reference instead.
  void SetOutput(Napi::Value v) { output_ = Napi::Persistent(v.As<Napi::Object>()); }
  Napi::Value Output() { return output_.Value(); }

  void Execute() override {
    try {
      if (!has_seed_) os_entropy(seed_.data());
      Run();
    } catch (const KernelError& e) {
      code_ = e.code;
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = "E_OUT_OF_MEMORY";
      SetError("out of memory");
    } catch (const std::exception& e) {
      code_ = "E_INTERNAL";
      SetError(e.what());
    }
    std::memset(seed_.data(), 0, seed_.size());
  }
  void OnOK() override { deferred_.Resolve(Result(Env())); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(coded_error(Env(), code_, e.Message()).Value());
  }

  std::array<uint8_t, 32> seed_{};
  bool has_seed_ = false;

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> pinned_;
  Napi::ObjectReference output_;
  std::string code_ = "E_INTERNAL";
};

// trainLocal(spec, weights, features, labels, n, options, seed?)
class TrainWorker : public PromiseWorker {
 public:
  TrainWorker(const Napi::CallbackInfo& info) : PromiseWorker(info.Env()) {
    Napi::Env env = info.Env();
    spec_ = spec_arg(info, 0);
    auto weights = typed_arg<Napi::Float32Array>(info, 1, napi_float32_array, "weights");
    auto features = typed_arg<Napi::Float32Array>(info, 2, napi_float32_array, "features");
    auto labels = typed_arg<Napi::Float32Array>(info, 3, napi_float32_array, "labels");
    double n = number_arg(info, 4, "n");
    if (info.Length() < 6 || !info[5].IsObject()) throw_arg(env, "options must be an object");
    Napi::Object o = info[5].As<Napi::Object>();
    auto num = [&](const char* key) {
      Napi::Value v = o.Get(key);
      if (!v.IsNumber()) throw_arg(env, std::string("options.") + key + " must be a number");
      return v.As<Napi::Number>().DoubleValue();
    };
    has_seed_ = seed_arg(info, 6, seed_);
    const size_t lw = spec_.loss == LossKind::SoftmaxCrossEntropy ? 1 : size_t(spec_.outputs());
    if (!(n >= 1 && n <= 4294967295.0) || double(size_t(n)) != n) throw_arg(env, "n out of range");
    cfg_.examples = size_t(n);
    if (weights.ElementLength() != spec_.parameters)
      throw coded_error(env, "E_SPEC_MISMATCH", "weights length does not match the spec");
    if (features.ElementLength() != cfg_.examples * spec_.input || labels.ElementLength() != cfg_.examples * lw)
      throw_arg(env, "features or labels length does not match n");
    cfg_.steps = int(num("steps"));
    cfg_.learning_rate = num("learningRate");
    cfg_.momentum = num("momentum");
    cfg_.proximal_mu = num("proximalMu");
    cfg_.dp = o.Get("dp").ToBoolean();
    cfg_.sample_rate = num("sampleRate");
    cfg_.noise_multiplier = num("noiseMultiplier");
    cfg_.clip_norm = num("clipNorm");
    cfg_.batch_size = int(num("batchSize"));
    if (o.Has("positiveWeight")) {  // sigmoid-BCE class weight (train.h); the facade checks it is finite and > 0
      cfg_.positive_weight = num("positiveWeight");
      if (!(cfg_.positive_weight > 0 && cfg_.positive_weight < 1e6) ||
          (cfg_.positive_weight != 1.0 && spec_.loss != LossKind::SigmoidBinaryCrossEntropy))
        throw_arg(env, "positiveWeight out of range or not a sigmoid binary cross-entropy model");
    }
    cfg_.threads = int(num("threads"));
    if (cfg_.steps < 0 || cfg_.threads < 1 || cfg_.threads > 256 ||
        (cfg_.dp && !(cfg_.sample_rate > 0 && cfg_.sample_rate <= 1 && cfg_.clip_norm > 0 &&
                      cfg_.noise_multiplier >= 0)) ||
        (!cfg_.dp && cfg_.batch_size < 1))
      throw_arg(env, "training options out of range");
    if (info.Length() > 7 && !info[7].IsUndefined()) {  // audit canaries: only native/lib/audit.ts passes them
      auto coords = typed_arg<Napi::Uint32Array>(info, 7, napi_uint32_array, "canaries");
      if (!cfg_.dp) throw_arg(env, "canaries need DP mode");
      canary_coordinate_.assign(coords.Data(), coords.Data() + coords.ElementLength());
      for (uint32_t c : canary_coordinate_)
        if (c >= spec_.parameters) throw_arg(env, "canary coordinate out of range");
    }
    cfg_.weights = weights.Data();
    cfg_.features = features.Data();
    cfg_.labels = labels.Data();
    Pin(weights);
    Pin(features);
    Pin(labels);
    auto delta = Napi::Float32Array::New(env, spec_.parameters);
    SetOutput(delta);
    delta_data_ = delta.Data();
    if (o.Get("clippedSum").ToBoolean()) {  // distributed mode: the clipped sum in double (train.h)
      if (!cfg_.dp || cfg_.steps != 1) throw_arg(env, "clippedSum needs DP mode and one step");
      auto sum = Napi::Float64Array::New(env, spec_.parameters);
      clipped_sum_ = Napi::Persistent(sum.As<Napi::Object>());
      clipped_sum_data_ = sum.Data();
    }
  }

 protected:
  void Run() override {
    cfg_.spec = &spec_;
    cfg_.seed = seed_;
    cfg_.canary_coordinate = canary_coordinate_.data();
    cfg_.canaries = canary_coordinate_.size();
    cfg_.clipped_sum = clipped_sum_data_;
    stats_ = train_local(cfg_, delta_data_);
    std::memset(cfg_.seed.data(), 0, 32);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object stats = Napi::Object::New(env);
    stats.Set("steps", stats_.steps);
    stats.Set("meanBatchSize", stats_.mean_batch_size);
    stats.Set("fractionClipped", stats_.fraction_clipped);
    stats.Set("loss", stats_.loss);
    Napi::Object r = Napi::Object::New(env);
    r.Set("delta", Output());
    r.Set("stats", stats);
    if (clipped_sum_data_) r.Set("clippedSum", clipped_sum_.Value());
    return r;
  }

 private:
  ModelSpec spec_;
  TrainConfig cfg_{};
  std::vector<uint32_t> canary_coordinate_;
  float* delta_data_ = nullptr;
  Napi::ObjectReference clipped_sum_;
  double* clipped_sum_data_ = nullptr;
  TrainStats stats_;
};

// evaluate(spec, weights, features, labels, n, threads) and predict(spec, weights, features, n, threads)
class ForwardWorker : public PromiseWorker {
 public:
  ForwardWorker(const Napi::CallbackInfo& info, bool with_labels) : PromiseWorker(info.Env()), eval_(with_labels) {
    Napi::Env env = info.Env();
    has_seed_ = true;  // deterministic, no randomness
    spec_ = spec_arg(info, 0);
    auto weights = typed_arg<Napi::Float32Array>(info, 1, napi_float32_array, "weights");
    auto features = typed_arg<Napi::Float32Array>(info, 2, napi_float32_array, "features");
    size_t at = 3;
    Napi::Float32Array labels;
    if (eval_) labels = typed_arg<Napi::Float32Array>(info, at++, napi_float32_array, "labels");
    double n = number_arg(info, at++, "n");
    threads_ = int(number_arg(info, at, "threads"));
    if (!(n >= 0 && n <= 4294967295.0) || double(size_t(n)) != n) throw_arg(env, "n out of range");
    if (threads_ < 1 || threads_ > 256) throw_arg(env, "threads out of range");
    n_ = size_t(n);
    if (weights.ElementLength() != spec_.parameters)
      throw coded_error(env, "E_SPEC_MISMATCH", "weights length does not match the spec");
    const size_t lw = spec_.loss == LossKind::SoftmaxCrossEntropy ? 1 : size_t(spec_.outputs());
    if (features.ElementLength() != n_ * spec_.input || (eval_ && labels.ElementLength() != n_ * lw))
      throw_arg(env, "features or labels length does not match n");
    weights_ = weights.Data();
    features_ = features.Data();
    Pin(weights);
    Pin(features);
    if (eval_) {
      labels_ = labels.Data();
      Pin(labels);
    } else {
      auto out = Napi::Float32Array::New(env, n_ * spec_.outputs());
      SetOutput(out);
      out_data_ = out.Data();
    }
  }

 protected:
  void Run() override {
    if (eval_)
      evaluate_model(spec_, weights_, features_, labels_, n_, threads_, &loss_, &accuracy_);
    else
      predict_model(spec_, weights_, features_, n_, threads_, out_data_);
  }
  Napi::Value Result(Napi::Env env) override {
    if (!eval_) return Output();
    Napi::Object r = Napi::Object::New(env);
    r.Set("loss", loss_);
    r.Set("accuracy", accuracy_);
    return r;
  }

 private:
  bool eval_;
  ModelSpec spec_;
  const float *weights_ = nullptr, *features_ = nullptr, *labels_ = nullptr;
  size_t n_ = 0;
  int threads_ = 1;
  float* out_data_ = nullptr;
  double loss_ = 0, accuracy_ = 0;
};

// maskAdd(acc, seed, sign)
class MaskWorker : public PromiseWorker {
 public:
  MaskWorker(const Napi::CallbackInfo& info) : PromiseWorker(info.Env()) {
    auto acc = typed_arg<Napi::Uint32Array>(info, 0, napi_uint32_array, "acc");
    if (!seed_arg(info, 1, seed_)) throw_arg(info.Env(), "seed is required");
    has_seed_ = true;
    double sign = number_arg(info, 2, "sign");
    if (sign != 1 && sign != -1) throw_arg(info.Env(), "sign must be 1 or -1");
    if (acc.ElementLength() > (size_t(1) << 36)) throw coded_error(info.Env(), "E_RANGE", "acc too long");
    subtract_ = sign < 0;
    acc_ = acc.Data();
    n_ = acc.ElementLength();
    Pin(acc);
  }

 protected:
  void Run() override { chacha20_mask_add(chacha_key(seed_.data()), acc_, n_, subtract_); }

 private:
  uint32_t* acc_ = nullptr;
  size_t n_ = 0;
  bool subtract_ = false;
};

// gaussianNoise(count, sigma, seed?, threads), discreteGaussian(count, sigma2Num, seed?),
// quantize(values, clip, scaleBits, seed?)
class SamplerWorker : public PromiseWorker {
 public:
  enum Kind { Gaussian, Discrete, Quantize };
  SamplerWorker(const Napi::CallbackInfo& info, Kind kind) : PromiseWorker(info.Env()), kind_(kind) {
    Napi::Env env = info.Env();
    if (kind == Quantize) {
      // float32 values, or float64 (a site's clipped sum accumulated in double)
      const bool wide = info.Length() > 0 && info[0].IsTypedArray() &&
                        info[0].As<Napi::TypedArray>().TypedArrayType() == napi_float64_array;
      if (wide) {
        auto values = typed_arg<Napi::Float64Array>(info, 0, napi_float64_array, "values");
        count_ = values.ElementLength();
        values_f64_ = values.Data();
        Pin(values);
      } else {
        auto values = typed_arg<Napi::Float32Array>(info, 0, napi_float32_array, "values");
        count_ = values.ElementLength();
        values_ = values.Data();
        Pin(values);
      }
      clip_ = number_arg(info, 1, "clip");
      double bits = number_arg(info, 2, "scaleBits");
      if (!(clip_ > 0) || !(bits >= 0 && bits <= 30) || double(int(bits)) != bits ||
          !(std::ldexp(clip_, int(bits)) < 2147483648.0))
        throw coded_error(env, "E_RANGE", "clip * 2^scaleBits must be below 2^31", false);
      scale_bits_ = int(bits);
      has_seed_ = seed_arg(info, 3, seed_);
      auto out = Napi::Uint32Array::New(env, count_);
      out_u32_ = out.Data();
      SetOutput(out);
    } else {
      double count = number_arg(info, 0, "count");
      if (!(count >= 0 && count <= 4294967295.0) || double(size_t(count)) != count) throw_arg(env, "count out of range");
      count_ = size_t(count);
      param_ = number_arg(info, 1, kind == Gaussian ? "sigma" : "sigmaSquaredNum");
      has_seed_ = seed_arg(info, 2, seed_);
      if (kind == Gaussian) {
        if (!(param_ > 0 && param_ < 1e30)) throw_arg(env, "sigma out of range");
        threads_ = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 1;
        if (threads_ < 1 || threads_ > 256) throw_arg(env, "threads out of range");
        auto out = Napi::Float32Array::New(env, count_);
        out_f32_ = out.Data();
        SetOutput(out);
      } else {
        if (!(param_ >= 0 && param_ <= 72057594037927936.0) || double(uint64_t(param_)) != param_)
          throw_arg(env, "sigmaSquaredNum out of range");
        auto out = Napi::Int32Array::New(env, count_);
        out_i32_ = out.Data();
        SetOutput(out);
      }
    }
  }

 protected:
  void Run() override {
    switch (kind_) {
      case Gaussian: gaussian_noise(chacha_key(seed_.data(), kStreamGaussian), count_, param_, out_f32_, threads_); break;
      case Discrete: discrete_gaussian(chacha_key(seed_.data(), kStreamDiscrete), count_, uint64_t(param_), out_i32_); break;
      case Quantize:
        if (values_f64_)
          quantize(chacha_key(seed_.data(), kStreamQuantize), values_f64_, count_, clip_, scale_bits_, out_u32_);
        else
          quantize(chacha_key(seed_.data(), kStreamQuantize), values_, count_, clip_, scale_bits_, out_u32_);
        break;
    }
  }
  Napi::Value Result(Napi::Env) override { return Output(); }

 private:
  Kind kind_;
  size_t count_ = 0;
  double param_ = 0, clip_ = 0;
  int scale_bits_ = 0, threads_ = 1;
  const float* values_ = nullptr;
  const double* values_f64_ = nullptr;
  float* out_f32_ = nullptr;
  int32_t* out_i32_ = nullptr;
  uint32_t* out_u32_ = nullptr;
};

template <class W, class... Extra>
Napi::Value Queue(const Napi::CallbackInfo& info, Extra... extra) {
  auto* w = new W(info, extra...);  // deleted by N-API after OnOK/OnError
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// initWeights(spec, seed?) -> Float32Array, synchronous (one pass of Gaussian sampling, milliseconds).
// Layer l: weights N(0, 2 / in_l) for ReLU (He et al. 2015), N(0, 2 / (in_l + units_l)) otherwise (Glorot
// and Bengio 2010, normal variant); biases 0. Stream (7, l, 0) per layer.
Napi::Value InitWeights(const Napi::CallbackInfo& info) {
  ModelSpec spec = spec_arg(info, 0);
  std::array<uint8_t, 32> seed{};
  if (!seed_arg(info, 1, seed)) os_entropy(seed.data());
  auto out = Napi::Float32Array::New(info.Env(), spec.parameters);
  float* w = out.Data();
  for (int l = 0; l < spec.layers(); l++) {
    size_t count = size_t(spec.units[l]) * spec.in(l);
    double var = spec.activation[l] == Activation::Relu ? 2.0 / spec.in(l) : 2.0 / (spec.in(l) + spec.units[l]);
    float sd = float(std::sqrt(var));
    float* p = w + spec.weight_offset[l];
    gaussian_fill(chacha_key(seed.data(), kStreamInit, uint32_t(l), 0), 0, count, p);
    for (size_t i = 0; i < count; i++) p[i] *= sd;
    std::fill(w + spec.bias_offset[l], w + spec.bias_offset[l] + spec.units[l], 0.0f);
  }
  std::memset(seed.data(), 0, 32);
  return out;
}

// chacha20Keystream(seed, nonce Uint32Array(3), counter, blocks) -> Uint32Array: test hook for RFC 8439.
Napi::Value Keystream(const Napi::CallbackInfo& info) {
  std::array<uint8_t, 32> seed{};
  if (!seed_arg(info, 0, seed)) throw_arg(info.Env(), "seed is required");
  auto nonce = typed_arg<Napi::Uint32Array>(info, 1, napi_uint32_array, "nonce");
  if (nonce.ElementLength() != 3) throw_arg(info.Env(), "nonce must have 3 words");
  double counter = number_arg(info, 2, "counter"), blocks = number_arg(info, 3, "blocks");
  if (!(counter >= 0 && counter <= 4294967295.0) || !(blocks >= 0 && blocks <= 1 << 20))
    throw_arg(info.Env(), "counter or blocks out of range");
  auto out = Napi::Uint32Array::New(info.Env(), size_t(blocks) * 16);
  try {
    chacha20_keystream(chacha_key(seed.data(), nonce[0], nonce[1], nonce[2]), uint32_t(counter), size_t(blocks),
                       out.Data());
  } catch (const KernelError& e) {
    throw coded_error(info.Env(), e.code, e.what());
  }
  return out;
}

// gemmSeconds(M, N, K, iterations, threads) -> {wall, cpu} seconds for C = A B^T on random data (benchmark hook; the
// shape of a dense layer's forward product).
Napi::Value GemmSeconds(const Napi::CallbackInfo& info) {
  int M = int(number_arg(info, 0, "M")), N = int(number_arg(info, 1, "N")), K = int(number_arg(info, 2, "K"));
  int iters = int(number_arg(info, 3, "iterations")), threads = int(number_arg(info, 4, "threads"));
  if (M < 1 || N < 1 || K < 1 || M > 8192 || N > 8192 || K > 8192 || iters < 1 || threads < 1 || threads > 256)
    throw_arg(info.Env(), "gemm shape out of range");
  std::vector<float> a(size_t(M) * K), b(size_t(N) * K), c(size_t(M) * N);
  for (size_t i = 0; i < a.size(); i++) a[i] = float((i * 7919) % 1000) * 1e-3f;
  for (size_t i = 0; i < b.size(); i++) b[i] = float((i * 104729) % 1000) * 1e-3f;
  ThreadPool pool(threads);
  auto cpu = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
  };
  double c0 = cpu();
  auto t0 = std::chrono::steady_clock::now();
  for (int it = 0; it < iters; it++) sgemm(M, N, K, a.data(), K, 1, b.data(), 1, K, c.data(), N, false, &pool);
  auto t1 = std::chrono::steady_clock::now();
  double c1 = cpu();
  Napi::Object r = Napi::Object::New(info.Env());
  r.Set("wall", std::chrono::duration<double>(t1 - t0).count());
  r.Set("cpu", c1 - c0);  // process CPU time: all threads of the process
  return r;
}

// gaussianInto(out, sigma, seed, threads): gaussianNoise's kernel writing into a caller's (already touched)
// buffer, synchronously; a benchmark hook that leaves page faults on fresh allocations out of the figure.
Napi::Value GaussianInto(const Napi::CallbackInfo& info) {
  auto out = typed_arg<Napi::Float32Array>(info, 0, napi_float32_array, "out");
  double sigma = number_arg(info, 1, "sigma");
  std::array<uint8_t, 32> seed{};
  if (!seed_arg(info, 2, seed)) throw_arg(info.Env(), "seed is required");
  int threads = int(number_arg(info, 3, "threads"));
  if (!(sigma > 0 && sigma < 1e30) || threads < 1 || threads > 256) throw_arg(info.Env(), "sigma or threads out of range");
  try {
    gaussian_noise(chacha_key(seed.data(), kStreamGaussian), out.ElementLength(), sigma, out.Data(), threads);
  } catch (const KernelError& e) {
    throw coded_error(info.Env(), e.code, e.what());
  }
  return info.Env().Undefined();
}

// maskAddSync(acc, seed, sign): maskAdd's kernel, synchronously (benchmark hook: no thread-pool hop per call).
Napi::Value MaskAddSync(const Napi::CallbackInfo& info) {
  auto acc = typed_arg<Napi::Uint32Array>(info, 0, napi_uint32_array, "acc");
  std::array<uint8_t, 32> seed{};
  if (!seed_arg(info, 1, seed)) throw_arg(info.Env(), "seed is required");
  double sign = number_arg(info, 2, "sign");
  if ((sign != 1 && sign != -1) || acc.ElementLength() > (size_t(1) << 36)) throw_arg(info.Env(), "bad sign or length");
  chacha20_mask_add(chacha_key(seed.data()), acc.Data(), acc.ElementLength(), sign < 0);
  return info.Env().Undefined();
}

Napi::Value Simd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0 && info[0].IsString()) {
    std::string want = info[0].As<Napi::String>();
    if (want == "avx512") set_simd_level(SimdLevel::Avx512);
    else if (want == "avx2") set_simd_level(SimdLevel::Avx2);
    else if (want == "generic") set_simd_level(SimdLevel::Generic);
    else throw_arg(env, "unknown SIMD level");
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("detected", simd_level_name(simd_level_detected()));
  r.Set("active", simd_level_name(simd_level()));
  return r;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("trainLocal", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Queue<TrainWorker>(i); }));
  exports.Set("evaluate", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Queue<ForwardWorker>(i, true); }));
  exports.Set("predict", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Queue<ForwardWorker>(i, false); }));
  exports.Set("maskAdd", Napi::Function::New(env, [](const Napi::CallbackInfo& i) { return Queue<MaskWorker>(i); }));
  exports.Set("gaussianNoise", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
                return Queue<SamplerWorker>(i, SamplerWorker::Gaussian);
              }));
  exports.Set("discreteGaussian", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
                return Queue<SamplerWorker>(i, SamplerWorker::Discrete);
              }));
  exports.Set("quantize", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
                return Queue<SamplerWorker>(i, SamplerWorker::Quantize);
              }));
  exports.Set("initWeights", Napi::Function::New(env, InitWeights));
  exports.Set("chacha20Keystream", Napi::Function::New(env, Keystream));
  exports.Set("gemmSeconds", Napi::Function::New(env, GemmSeconds));
  exports.Set("simd", Napi::Function::New(env, Simd));
  exports.Set("gaussianInto", Napi::Function::New(env, GaussianInto));
  exports.Set("maskAddSync", Napi::Function::New(env, MaskAddSync));
  return exports;
}

}  // namespace
}  // namespace concord

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return concord::Init(env, exports); }
NODE_API_MODULE(concord_native, InitAddon)
