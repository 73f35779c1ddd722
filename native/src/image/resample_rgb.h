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

// Pillow's horizontal pass over one row held as R, G and B planes of int32 (indexed
// by source column; only the columns the outputs read need be set): output columns
// [col_start, col_start + out_width) into `out`, interleaved.
void resample_planes_horizontal(const int32_t* r, const int32_t* g, const int32_t* b, const ResampleAxis& axis,
                                size_t col_start, size_t out_width, uint8_t* out);

// Pillow's vertical pass: output rows [row_begin, row_end) of `row_bytes` each, from
// `in`, whose first row is source row `input_first_row`; split over `threads`.
void resample_vertical(const uint8_t* in, size_t row_bytes, size_t input_first_row, const ResampleAxis& axis,
                       size_t row_begin, size_t row_end, unsigned threads, uint8_t* out);

// Source positions [first, end) that outputs [begin, begin + count) of `axis` read (the union of their
// windows, whatever order they come in).
void resample_source_range(const ResampleAxis& axis, size_t begin, size_t count, size_t& first, size_t& end);

// Resizes `src` (RGB rows of `width` pixels; the axes' tables, checked by the
// caller, bound the rows read) with the given axes (nullptr: that axis keeps
// its size) and writes only `region` of the result to `out`
// (region.width * region.height * 3 bytes).
void resample_rgb(const uint8_t* src, size_t width, const ResampleAxis* horizontal,
                  const ResampleAxis* vertical, RgbRegion region, unsigned threads, uint8_t* out);

// resample_rgb of the image that EXIF `orientation` 5-8 (a transpose or rotation)
// makes of `src` (width x height, stored orientation): the axes, the region and
// `out` are in upright coordinates, the bytes are those of rotating first and
// resizing then, but the full-size image is never rotated. Pillow's horizontal
// pass runs down the stored columns, as sums of whole stored rows.
void resample_rgb_transposed(const uint8_t* src, size_t width, size_t height, int orientation,
                             const ResampleAxis* horizontal, const ResampleAxis* vertical, RgbRegion region,
                             unsigned threads, uint8_t* out);

}  // namespace crossmodal
