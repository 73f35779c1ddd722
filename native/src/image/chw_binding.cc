// rgbToChw: interleaved RGB bytes to the model's planar float32 tensor, each
// byte through its channel's lookup table (rescale and normalise, computed in
// TypeScript), the pixels placed at (left, top) of a possibly larger output
// whose padding is byte 0 through the same tables. The TypeScript twin is
// toChwTensor in embedder/image/tensor.ts.
#include <napi.h>

#include <algorithm>
#include <cstdint>

#include "axis_args.h"

namespace crossmodal {
namespace {

void rgb_to_chw(const uint8_t* rgb, size_t width, size_t height, const float* tables, size_t out_width, size_t out_height,
                size_t left, size_t top, float* out) {
  const size_t plane = out_width * out_height;
  const float* red = tables;
  const float* green = tables + 256;
  const float* blue = tables + 512;
  if (width != out_width || height != out_height)
    for (int c = 0; c < 3; ++c) std::fill(out + c * plane, out + (c + 1) * plane, tables[c * 256]);
  for (size_t y = 0; y < height; ++y) {
    const uint8_t* p = rgb + y * width * 3;
    float* r = out + (top + y) * out_width + left;
    float* g = r + plane;
    float* b = g + plane;
    for (size_t x = 0; x < width; ++x, p += 3) {
      r[x] = red[p[0]];
      g[x] = green[p[1]];
      b[x] = blue[p[2]];
    }
  }
}

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
  if (rgb.ElementLength() != width * height * 3) throw Napi::RangeError::New(env, "rgb length must be width * height * 3");
  if (tables.ElementLength() != 3 * 256) throw Napi::RangeError::New(env, "tables must hold 3 * 256 values");
  if (left + width > out_width || top + height > out_height) throw Napi::RangeError::New(env, "the pixels do not fit the output at (left, top)");
  auto out = Napi::Float32Array::New(env, 3 * out_width * out_height);
  rgb_to_chw(rgb.Data(), width, height, tables.Data(), out_width, out_height, left, top, out.Data());
  return out;
}

}  // namespace

void register_chw(Napi::Env env, Napi::Object exports) { exports.Set("rgbToChw", Napi::Function::New(env, RgbToChw)); }

}  // namespace crossmodal
