// The image entry points' argument checks, free of Node-API: the bindings turn a
// reason into a RangeError, and the fuzz targets (native/fuzz/) run the very same
// checks before calling the kernels, so that what they find is what JavaScript
// could reach. A check that passes guarantees the kernel reads and writes only
// inside the buffers whose sizes it was given.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "resample_rgb.h"

namespace crossmodal {

// Pillow's coefficient tables as passed in, with the lengths of their arrays.
struct AxisTables {
  ResampleAxis axis;
  size_t first_length, count_length, weights_length;
};

// An output's absolute weights may sum to 2.0 at most (see check_axis).
inline constexpr int64_t kMaxWeightMagnitude = int64_t{1} << 23;

// a * b * c, false if it does not fit size_t. Sizes from JavaScript reach 2^32 - 1 each, so their
// products wrap: a wrapped product once let a 32-byte buffer pass for a 1.6e9 x 3.6e9 image.
inline bool checked_product(size_t a, size_t b, size_t c, size_t& product) {
  size_t ab;
  return !__builtin_mul_overflow(a, b, &ab) && !__builtin_mul_overflow(ab, c, &product);
}

// nullptr when outputs [from, to) of `tables` read only source positions [0, in_size), with weights
// whose sums cannot overflow; otherwise why not (the binding prefixes the argument's name).
inline const char* check_axis(const AxisTables& tables, size_t in_size, size_t from, size_t to) {
  const ResampleAxis& a = tables.axis;
  size_t weights = 0;
  if (tables.first_length < to || tables.count_length < to || !checked_product(to, a.taps, 1, weights) ||
      tables.weights_length < weights)
    return "tables are shorter than the output";
  for (size_t i = from; i < to; ++i) {
    const int32_t f = a.first[i], c = a.count[i];
    if (f < 0 || c < 0 || static_cast<size_t>(c) > a.taps || static_cast<size_t>(f) + static_cast<size_t>(c) > in_size)
      return "reads outside the source image";
    // The kernels sum 255 * weight per tap in int32 (as Pillow does): that cannot overflow while an
    // output's absolute weights sum to at most 2.0 in Pillow's 1 << 22 fixed point, which every
    // Pillow filter keeps (Lanczos reaches about 1.6).
    int64_t magnitude = 0;
    for (int32_t t = 0; t < c; ++t) magnitude += std::abs(int64_t{a.weights[i * a.taps + static_cast<size_t>(t)]});
    if (magnitude > kMaxWeightMagnitude) return "weights are out of range";
  }
  return nullptr;
}

// resampleRgb's arguments: `src_length` bytes of `width` x `height` RGB, stored in EXIF `orientation`
// (1, or 5-8: see resample_rgb_transposed), the axes (nullptr: that side keeps its size) and the region
// of the upright resized image. On success `out_bytes` is the size of the output to allocate.
struct ResampleArgs {
  size_t src_length, width, height;
  int orientation;
  const AxisTables* horizontal;
  const AxisTables* vertical;
  RgbRegion region;
};

// nullptr, or the message of the RangeError (the axes' reasons come back with their names).
inline const char* check_resample(const ResampleArgs& a, size_t& out_bytes, const char*& axis_name) {
  axis_name = nullptr;
  size_t src_bytes = 0;
  if (!checked_product(a.width, a.height, 3, src_bytes) || a.src_length != src_bytes) return "src length must be width * height * 3";
  if (a.orientation != 1 && (a.orientation < 5 || a.orientation > 8)) return "orientation must be 1 or 5-8";
  // The axes and the region are in upright coordinates; orientations 5-8 swap the sides.
  const size_t upright_width = a.orientation == 1 ? a.width : a.height;
  const size_t upright_height = a.orientation == 1 ? a.height : a.width;
  const RgbRegion& r = a.region;
  if (a.horizontal)
    if (const char* why = check_axis(*a.horizontal, upright_width, r.left, r.left + r.width)) return axis_name = "horizontal", why;
  // With a vertical axis, its tables bound the rows; without, the region must lie in the source.
  if (a.vertical)
    if (const char* why = check_axis(*a.vertical, upright_height, r.top, r.top + r.height)) return axis_name = "vertical", why;
  if (!a.horizontal && r.left + r.width > upright_width) return "region lies outside the image";
  if (!a.vertical && r.top + r.height > upright_height) return "region lies outside the image";
  if (!checked_product(r.width, r.height, 3, out_bytes)) return "region is too large";
  return nullptr;
}

// rgbToChw's arguments: `rgb_length` bytes of `width` x `height` RGB placed at (left, top) of an
// out_width x out_height tensor. On success `out_floats` is the size of the tensor to allocate.
struct ChwArgs {
  size_t rgb_length, width, height, tables_length, out_width, out_height, left, top;
};

inline const char* check_chw(const ChwArgs& a, size_t& out_floats) {
  size_t rgb_bytes = 0;
  if (!checked_product(a.width, a.height, 3, rgb_bytes) || a.rgb_length != rgb_bytes) return "rgb length must be width * height * 3";
  if (a.tables_length != 3 * 256) return "tables must hold 3 * 256 values";
  if (a.left + a.width > a.out_width || a.top + a.height > a.out_height) return "the pixels do not fit the output at (left, top)";
  if (!checked_product(a.out_width, a.out_height, 3, out_floats)) return "the output is too large";
  return nullptr;
}

}  // namespace crossmodal
