// Pillow's 8-bit resampling (Resample.c: ImagingResampleHorizontal_8bpc and
// ImagingResampleVertical_8bpc) for interleaved RGB, bit for bit: the same
// fixed-point coefficients (computed by the caller), the same rounding, the
// same uint8 intermediate between the horizontal and the vertical pass.
#pragma once
#include <cstddef>
#include <cstdint>

namespace crossmodal {

// Per output pixel i: taps start at first[i], count[i] of them, weights at
// weights[i * taps ...]. Weights are Pillow's (1 << 22) fixed point.
struct ResampleAxis {
  const int32_t* first;
  const int32_t* count;
  const int32_t* weights;
  size_t taps;
};

struct RgbRegion {
  size_t left, top, width, height;  // in the resized image's coordinates
};

// Resizes `src` (width x height RGB) with the given axes (nullptr: that axis
// keeps its size) and writes only `region` of the result to `out`
// (region.width * region.height * 3 bytes).
void resample_rgb(const uint8_t* src, size_t width, size_t height, const ResampleAxis* horizontal,
                  const ResampleAxis* vertical, RgbRegion region, unsigned threads, uint8_t* out);

}  // namespace crossmodal
