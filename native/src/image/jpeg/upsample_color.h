// libjpeg's "fancy" chroma upsampling (jdsample.c: triangular filters for
// 2x1 and 2x2 subsampling, edges replicated) and its YCbCr to RGB conversion
// (jdcolor.c, 16-bit fixed point), one output row at a time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace crossmodal::jpeg {

// 2x1: one input row of `in_width` samples to 2 * in_width.
void upsample_h2v1(const uint8_t* in, int in_width, uint8_t* out);

// 2x2: the output row between `near` (its own input row) and `far` (the input row above
// for an upper output row, below for a lower one). `colsum` is scratch of in_width ints.
void upsample_h2v2(const uint8_t* near, const uint8_t* far, int in_width, int16_t* colsum, uint8_t* out);

// Interleaved RGB from full-resolution Y, Cb and Cr rows.
void ycc_to_rgb(const uint8_t* y, const uint8_t* cb, const uint8_t* cr, int width, uint8_t* rgb);

// Interleaved RGB from a grey row.
void grey_to_rgb(const uint8_t* y, int width, uint8_t* rgb);

}  // namespace crossmodal::jpeg
