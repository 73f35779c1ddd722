// Argument parsing shared by the resampling entry points: Pillow coefficient
// tables from JavaScript, checked (image_checks.h) so that no kernel can read
// outside the image.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "image_checks.h"
#include "resample_rgb.h"

namespace crossmodal {

struct AxisArrays {
  Napi::Int32Array first, count, weights;
  AxisTables tables;
  const ResampleAxis& axis() const { return tables.axis; }
};

inline Napi::Int32Array int32_array(const Napi::Value& v, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(v.Env(), name + " must be an Int32Array");
  return v.As<Napi::Int32Array>();
}

inline size_t index_arg(const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<size_t>(d)))
    throw Napi::RangeError::New(v.Env(), name + " must be a non-negative integer");
  return static_cast<size_t>(d);
}

// Parses { first, count, weights, taps } (null or undefined: no axis), unchecked.
inline std::unique_ptr<AxisArrays> axis_tables_arg(const Napi::Value& v, const std::string& name) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), name + " must be an object or null");
  auto o = v.As<Napi::Object>();
  auto a = std::make_unique<AxisArrays>(AxisArrays{int32_array(o.Get("first"), name + ".first"),
                                                   int32_array(o.Get("count"), name + ".count"),
                                                   int32_array(o.Get("weights"), name + ".weights"),
                                                   {}});
  const size_t taps = index_arg(o.Get("taps"), name + ".taps");
  a->tables = {{a->first.Data(), a->count.Data(), a->weights.Data(), taps},
               a->first.ElementLength(), a->count.ElementLength(), a->weights.ElementLength()};
  return a;
}

// axis_tables_arg, then checks that every output position in [from, to) reads taps inside [0, in_size).
inline std::unique_ptr<AxisArrays> axis_arg(const Napi::Value& v, const std::string& name, size_t in_size, size_t from, size_t to) {
  auto a = axis_tables_arg(v, name);
  if (a)
    if (const char* why = check_axis(a->tables, in_size, from, to)) throw Napi::RangeError::New(v.Env(), name + " " + why);
  return a;
}

}  // namespace crossmodal
