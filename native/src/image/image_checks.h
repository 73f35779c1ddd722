// The image entry points' argument checks, free of Node-API: the bindings turn a
// reason into a RangeError, and the fuzz targets (native/fuzz/) run the very same
// checks before calling the kernels, so that what they find is what JavaScript
// could reach. A check that passes guarantees the kernel reads and writes only
// inside the buffers whose sizes it was given.
#pragma once
#include <cstddef>
#include <cstdint>

#include "resample_rgb.h"

namespace crossmodal {

// Pillow's coefficient tables as passed in, with the lengths of their arrays.
struct AxisTables {
  ResampleAxis axis;
  size_t first_length, count_length, weights_length;
};

// nullptr when outputs [from, to) of `tables` read only source positions [0, in_size);
// otherwise why not (the binding prefixes the argument's name).
inline const char* check_axis(const AxisTables& tables, size_t in_size, size_t from, size_t to) {
  const ResampleAxis& a = tables.axis;
  if (tables.first_length < to || tables.count_length < to || tables.weights_length < to * a.taps)
    return "tables are shorter than the output";
  for (size_t i = from; i < to; ++i) {
    const int32_t f = a.first[i], c = a.count[i];
    if (f < 0 || c < 0 || static_cast<size_t>(c) > a.taps || static_cast<size_t>(f) + static_cast<size_t>(c) > in_size)
      return "reads outside the source image";
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
  if (a.src_length != a.width * a.height * 3) return "src length must be width * height * 3";
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
  out_bytes = r.width * r.height * 3;
  return nullptr;
}

// rgbToChw's arguments: `rgb_length` bytes of `width` x `height` RGB placed at (left, top) of an
// out_width x out_height tensor. On success `out_floats` is the size of the tensor to allocate.
struct ChwArgs {
  size_t rgb_length, width, height, tables_length, out_width, out_height, left, top;
};

inline const char* check_chw(const ChwArgs& a, size_t& out_floats) {
  if (a.rgb_length != a.width * a.height * 3) return "rgb length must be width * height * 3";
  if (a.tables_length != 3 * 256) return "tables must hold 3 * 256 values";
  if (a.left + a.width > a.out_width || a.top + a.height > a.out_height) return "the pixels do not fit the output at (left, top)";
  out_floats = 3 * a.out_width * a.out_height;
  return nullptr;
}

}  // namespace crossmodal
