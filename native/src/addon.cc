// Node-API surface of the addon. Argument checks here are a last line of
// defence (native/index.ts validates first with friendlier messages): no call
// from JavaScript can read or write outside the arrays it passed.
#include <napi.h>

#include <string>

#include "cpu_features.h"
#include "dispatch.h"
#include "promise_task.h"
#include "scan.h"

namespace crossmodal {
namespace {

struct FloatView {
  float* data;
  size_t length;
};

FloatView float_view(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a Float32Array");
  auto array = value.As<Napi::Float32Array>();
  return {array.Data(), array.ElementLength()};
}

size_t positive_integer(const Napi::Value& value, const char* name) {
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a number");
  const double n = value.As<Napi::Number>().DoubleValue();
  if (!(n >= 1) || n != static_cast<double>(static_cast<size_t>(n)) || n > 4294967295.0)
    throw Napi::RangeError::New(value.Env(), std::string(name) + " must be a positive integer");
  return static_cast<size_t>(n);
}

unsigned thread_count(const Napi::Value& value) {
  if (value.IsUndefined()) return 0;
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), "threads must be a number");
  const double n = value.As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n <= 1024) || n != static_cast<double>(static_cast<unsigned>(n)))
    throw Napi::RangeError::New(value.Env(), "threads must be an integer in [0, 1024]");
  return static_cast<unsigned>(n);
}

Metric metric_of(const Napi::Value& value) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "dot") return Metric::Dot;
  if (name == "cosine") return Metric::Cosine;
  throw Napi::TypeError::New(value.Env(), "metric must be 'dot' or 'cosine'");
}

size_t row_count(const Napi::Env& env, const FloatView& view, size_t dim, const char* name) {
  if (view.length % dim != 0)
    throw Napi::RangeError::New(env, std::string(name) + " length must be a multiple of dim");
  return view.length / dim;
}

// Everything a scan needs, parsed from (queries, matrix, dim, ...) arguments.
struct ScanArgs {
  FloatView queries, matrix;
  size_t dim, nq, rows;
  Metric metric;
  unsigned threads;
};

ScanArgs scan_args(const Napi::CallbackInfo& info, size_t metric_at) {
  Napi::Env env = info.Env();
  ScanArgs a{};
  a.queries = float_view(info[0], "queries");
  a.matrix = float_view(info[1], "matrix");
  a.dim = positive_integer(info[2], "dim");
  a.nq = row_count(env, a.queries, a.dim, "queries");
  a.rows = row_count(env, a.matrix, a.dim, "matrix");
  a.metric = metric_of(info[metric_at]);
  a.threads = resolve_threads(thread_count(info[metric_at + 1]), a.rows, a.dim, a.nq);
  return a;
}

// ---- synchronous entry points -------------------------------------------

Napi::Value L2Normalize(const Napi::CallbackInfo& info) {
  FloatView m = float_view(info[0], "matrix");
  const size_t dim = positive_integer(info[1], "dim");
  const size_t rows = row_count(info.Env(), m, dim, "matrix");
  l2_normalize(m.data, rows, dim, resolve_threads(thread_count(info[2]), rows, dim, 1));
  return info[0];
}

// (queries, matrix, dim, metric, threads) -> Float32Array(nq * rows)
Napi::Value Scores(const Napi::CallbackInfo& info) {
  const ScanArgs a = scan_args(info, 3);
  auto out = Napi::Float32Array::New(info.Env(), a.nq * a.rows);
  score_matrix(a.queries.data, a.nq, a.matrix.data, a.rows, a.dim, a.metric, a.threads, out.Data());
  return out;
}

Napi::Object TopKResult(Napi::Env env, Napi::Uint32Array indices, Napi::Float32Array scores) {
  auto result = Napi::Object::New(env);
  result.Set("indices", indices);
  result.Set("scores", scores);
  return result;
}

// (queries, matrix, dim, k, metric, threads) -> { indices, scores }
Napi::Value TopK(const Napi::CallbackInfo& info) {
  const ScanArgs a = scan_args(info, 4);
  const size_t k = positive_integer(info[3], "k");
  const size_t keep = std::min(k, a.rows);
  auto indices = Napi::Uint32Array::New(info.Env(), a.nq * keep);
  auto scores = Napi::Float32Array::New(info.Env(), a.nq * keep);
  top_k(a.queries.data, a.nq, a.matrix.data, a.rows, a.dim, k, a.metric, a.threads, indices.Data(), scores.Data());
  return TopKResult(info.Env(), indices, scores);
}

// ---- asynchronous twins: the same work on libuv's thread pool --------------

// A scan on libuv's thread pool. Keeps the JavaScript arrays alive (and their memory in place) until done.
class ScanTask : public PromiseTask {
 public:
  ScanTask(Napi::Env env, std::initializer_list<Napi::Value> keep_alive) : PromiseTask(env) {
    for (const auto& v : keep_alive) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

 protected:
  Napi::Value ref(size_t i) { return refs_[i].Value(); }

 private:
  std::vector<Napi::ObjectReference> refs_;
};

class L2NormalizeTask : public ScanTask {
 public:
  L2NormalizeTask(Napi::Env env, Napi::Value matrix, FloatView m, size_t rows, size_t dim, unsigned threads)
      : ScanTask(env, {matrix}), m_(m), rows_(rows), dim_(dim), threads_(threads) {}
  void Execute() override { l2_normalize(m_.data, rows_, dim_, threads_); }
  void OnOK() override { deferred_.Resolve(ref(0)); }

 private:
  FloatView m_;
  size_t rows_, dim_;
  unsigned threads_;
};

class ScoresTask : public ScanTask {
 public:
  ScoresTask(Napi::Env env, const Napi::CallbackInfo& info, const ScanArgs& a, Napi::Float32Array out)
      : ScanTask(env, {info[0], info[1], out}), a_(a), out_(out.Data()) {}
  void Execute() override {
    score_matrix(a_.queries.data, a_.nq, a_.matrix.data, a_.rows, a_.dim, a_.metric, a_.threads, out_);
  }
  void OnOK() override { deferred_.Resolve(ref(2)); }

 private:
  ScanArgs a_;
  float* out_;
};

class TopKTask : public ScanTask {
 public:
  TopKTask(Napi::Env env, const Napi::CallbackInfo& info, const ScanArgs& a, size_t k, Napi::Uint32Array indices,
           Napi::Float32Array scores)
      : ScanTask(env, {info[0], info[1], indices, scores}),
        a_(a),
        k_(k),
        indices_(indices.Data()),
        scores_(scores.Data()) {}
  void Execute() override {
    top_k(a_.queries.data, a_.nq, a_.matrix.data, a_.rows, a_.dim, k_, a_.metric, a_.threads, indices_, scores_);
  }
  void OnOK() override {
    deferred_.Resolve(TopKResult(Env(), ref(2).As<Napi::Uint32Array>(), ref(3).As<Napi::Float32Array>()));
  }

 private:
  ScanArgs a_;
  size_t k_;
  uint32_t* indices_;
  float* scores_;
};

Napi::Value L2NormalizeAsync(const Napi::CallbackInfo& info) {
  FloatView m = float_view(info[0], "matrix");
  const size_t dim = positive_integer(info[1], "dim");
  const size_t rows = row_count(info.Env(), m, dim, "matrix");
  return queue_task<L2NormalizeTask>(info.Env(), info[0], m, rows, dim,
                                     resolve_threads(thread_count(info[2]), rows, dim, 1));
}

Napi::Value ScoresAsync(const Napi::CallbackInfo& info) {
  const ScanArgs a = scan_args(info, 3);
  return queue_task<ScoresTask>(info.Env(), info, a, Napi::Float32Array::New(info.Env(), a.nq * a.rows));
}

Napi::Value TopKAsync(const Napi::CallbackInfo& info) {
  const ScanArgs a = scan_args(info, 4);
  const size_t k = positive_integer(info[3], "k");
  const size_t keep = std::min(k, a.rows);
  return queue_task<TopKTask>(info.Env(), info, a, k, Napi::Uint32Array::New(info.Env(), a.nq * keep),
                              Napi::Float32Array::New(info.Env(), a.nq * keep));
}

// ---- introspection --------------------------------------------------------

Napi::Value SimdLevel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), active_kernels().name);
}

Napi::Value SupportedSimdLevels(const Napi::CallbackInfo& info) {
  const auto levels = supported_simd_levels();
  auto out = Napi::Array::New(info.Env(), levels.size());
  for (size_t i = 0; i < levels.size(); ++i) out.Set(i, levels[i]);
  return out;
}

Napi::Value SetSimdLevel(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "level must be a string");
  return Napi::Boolean::New(info.Env(), select_simd_level(info[0].As<Napi::String>().Utf8Value()));
}

}  // namespace

void register_resample(Napi::Env env, Napi::Object exports);
void register_jpeg(Napi::Env env, Napi::Object exports);
void register_chw(Napi::Env env, Napi::Object exports);

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("l2Normalize", Napi::Function::New(env, L2Normalize));
  exports.Set("scores", Napi::Function::New(env, Scores));
  exports.Set("topK", Napi::Function::New(env, TopK));
  exports.Set("l2NormalizeAsync", Napi::Function::New(env, L2NormalizeAsync));
  exports.Set("scoresAsync", Napi::Function::New(env, ScoresAsync));
  exports.Set("topKAsync", Napi::Function::New(env, TopKAsync));
  exports.Set("simdLevel", Napi::Function::New(env, SimdLevel));
  exports.Set("supportedSimdLevels", Napi::Function::New(env, SupportedSimdLevels));
  exports.Set("setSimdLevel", Napi::Function::New(env, SetSimdLevel));
  register_resample(env, exports);
  register_jpeg(env, exports);
  register_chw(env, exports);
  return exports;
}

}  // namespace
}  // namespace crossmodal

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return crossmodal::Init(env, exports); }

NODE_API_MODULE(crossmodal_native, InitAddon)
