// libjpeg's "fancy" chroma upsampling (jdsample.c: triangular filters for
// 2x1 and 2x2 subsampling, edges replicated) and its YCbCr to RGB conversion
// (jdcolor.c, 16-bit fixed point), one output row at a time. Each works on a
// window of columns, so that a caller can skip what it will not read.
#pragma once
#include <cstddef>
#include <cstdint>

namespace crossmodal::jpeg {

// 2x1: input columns [c0, c1) of a row of `n` samples to output columns [2 * c0, 2 * c1).
void upsample_h2v1(const uint8_t* in, int n, int c0, int c1, uint8_t* out);

// 2x2: the output row between `near` (its own input row) and `far` (the input row above for an
// upper output row, below for a lower one); columns as upsample_h2v1. `colsum` is scratch of n ints.
void upsample_h2v2(const uint8_t* near, const uint8_t* far, int n, int c0, int c1, int16_t* colsum, uint8_t* out);

// Interleaved RGB from full-resolution Y, Cb and Cr rows, columns [x0, x1).
void ycc_to_rgb(const uint8_t* y, const uint8_t* cb, const uint8_t* cr, int x0, int x1, uint8_t* rgb);

// The same as R, G and B planes of int32 (the resampler's input).
void ycc_to_planes(const uint8_t* y, const uint8_t* cb, const uint8_t* cr, int x0, int x1, int32_t* r, int32_t* g,
                   int32_t* b);

// Grey replicated to RGB, interleaved or as planes.
void grey_to_rgb(const uint8_t* y, int x0, int x1, uint8_t* rgb);
void grey_to_planes(const uint8_t* y, int x0, int x1, int32_t* r, int32_t* g, int32_t* b);

}  // namespace crossmodal::jpeg
