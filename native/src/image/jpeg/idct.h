// libjpeg's accurate integer inverse DCT (jidctint.c, jpeg_idct_islow) for one
// 8x8 block: dequantise, two 1-D passes, descale, clamp to 0..255. The scalar
// kernel is the reference; the AVX2 kernel computes the same integers eight
// lanes at a time. For coefficients a real encoder produces, both equal
// libjpeg-turbo's output bit for bit.
#pragma once
#include <cstddef>
#include <cstdint>

namespace crossmodal::jpeg {

using IdctKernel = void (*)(const int16_t* coef, const int32_t* quant, uint8_t* out, size_t stride);

void idct_islow_scalar(const int16_t* coef, const int32_t* quant, uint8_t* out, size_t stride);
#if defined(CROSSMODAL_X86)
void idct_islow_avx2(const int16_t* coef, const int32_t* quant, uint8_t* out, size_t stride);
#endif

// The kernel for this CPU (AVX2 when it has it, capped by CROSSMODAL_SIMD like the scoring kernels).
IdctKernel active_idct();

// A block whose AC coefficients are all zero is flat: the same value in all 64 pixels.
inline uint8_t idct_dc_only(int16_t dc, int32_t quant0) {
  const int v = ((dc * quant0 + 4) >> 3) + 128;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace crossmodal::jpeg
