// The model tensor's packing (rgbToChw's kernel, see chw_binding.cc), free of Node-API so that the
// fuzz targets call it directly. Its arguments are checked by check_chw (image_checks.h).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace crossmodal {

inline void rgb_to_chw(const uint8_t* rgb, size_t width, size_t height, const float* tables, size_t out_width,
                       size_t out_height, size_t left, size_t top, float* out) {
  const size_t plane = out_width * out_height;
  const float* red = tables;
  const float* green = tables + 256;
  const float* blue = tables + 512;
  if (width != out_width || height != out_height)
    for (int c = 0; c < 3; ++c) std::fill(out + c * plane, out + (c + 1) * plane, tables[c * 256]);
  // No pixels: without this, 0 x 2^31 pixels spent seconds walking empty rows.
  if (width == 0) return;
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

}  // namespace crossmodal
