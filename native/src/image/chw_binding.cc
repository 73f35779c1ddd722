// rgbToChw: interleaved RGB bytes to the model's planar float32 tensor, each
// byte through its channel's lookup table (rescale and normalise, computed in
// TypeScript), the pixels placed at (left, top) of a possibly larger output
// whose padding is byte 0 through the same tables. The TypeScript twin is
// toChwTensor in embedder/image/tensor.ts.
#include <napi.h>

#include "axis_args.h"
#include "chw.h"
#include "image_checks.h"

namespace crossmodal {
namespace {

// (rgb, width, height, tables (768 float32: R, G, B), outWidth, outHeight, left, top) -> Float32Array
Napi::Value RgbToChw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "rgb must be a Uint8Array");
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "tables must be a Float32Array");
  const auto rgb = info[0].As<Napi::Uint8Array>();
  const auto tables = info[3].As<Napi::Float32Array>();
  const size_t width = index_arg(info[1], "width"), height = index_arg(info[2], "height");
  const size_t out_width = index_arg(info[4], "outWidth"), out_height = index_arg(info[5], "outHeight");
  const size_t left = index_arg(info[6], "left"), top = index_arg(info[7], "top");
  size_t out_floats = 0;
  if (const char* why = check_chw({rgb.ElementLength(), width, height, tables.ElementLength(), out_width, out_height, left, top}, out_floats))
    throw Napi::RangeError::New(env, why);
  auto out = Napi::Float32Array::New(env, out_floats);
  rgb_to_chw(rgb.Data(), width, height, tables.Data(), out_width, out_height, left, top, out.Data());
  return out;
}

}  // namespace

void register_chw(Napi::Env env, Napi::Object exports) { exports.Set("rgbToChw", Napi::Function::New(env, RgbToChw)); }

}  // namespace crossmodal
