// The benchmark-only addon (crossmodal_bench.node): the plain sequential read that bench:native
// measures the scan against. Built on demand by the benchmark, never part of the production addon.
#include <napi.h>

#include <algorithm>
#include <cstdint>

#include "read_bandwidth.h"

namespace {

// (data: Float32Array, 8-byte aligned, threads: integer 1-1024) -> XOR of its 64-bit words, low 32 bits.
Napi::Value SequentialRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "data must be a Float32Array");
  const auto data = info[0].As<Napi::Float32Array>();
  if (reinterpret_cast<uintptr_t>(data.Data()) % 8 != 0) throw Napi::RangeError::New(env, "data must be 8-byte aligned");
  const double threads = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
  if (!(threads >= 1 && threads <= 1024) || threads != static_cast<double>(static_cast<unsigned>(threads)))
    throw Napi::RangeError::New(env, "threads must be an integer from 1 to 1024");
  const uint64_t x = crossmodal::sequential_read(data.Data(), data.ElementLength() * sizeof(float), static_cast<unsigned>(threads));
  return Napi::Number::New(env, static_cast<double>(x & 0xffffffffu));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("sequentialRead", Napi::Function::New(env, SequentialRead));
  return exports;
}

}  // namespace

NODE_API_MODULE(crossmodal_bench, Init)
