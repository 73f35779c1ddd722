#include "upsample_color.h"

namespace crossmodal::jpeg {

// Plain loops the compiler vectorises; target_clones adds an AVX2 copy picked at load time.
#if defined(__x86_64__) && defined(__GNUC__)
#define CROSSMODAL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CROSSMODAL_CLONES
#endif

CROSSMODAL_CLONES
void upsample_h2v1(const uint8_t* in, int n, uint8_t* out) {
  out[0] = in[0];
  out[1] = static_cast<uint8_t>((in[0] * 3 + in[1] + 2) >> 2);
  for (int c = 1; c < n - 1; ++c) {
    const int here = in[c] * 3;
    out[2 * c] = static_cast<uint8_t>((here + in[c - 1] + 1) >> 2);
    out[2 * c + 1] = static_cast<uint8_t>((here + in[c + 1] + 2) >> 2);
  }
  out[2 * n - 2] = static_cast<uint8_t>((in[n - 1] * 3 + in[n - 2] + 1) >> 2);
  out[2 * n - 1] = in[n - 1];
}

CROSSMODAL_CLONES
void upsample_h2v2(const uint8_t* near, const uint8_t* far, int n, int16_t* colsum, uint8_t* out) {
  for (int c = 0; c < n; ++c) colsum[c] = static_cast<int16_t>(near[c] * 3 + far[c]);
  out[0] = static_cast<uint8_t>((colsum[0] * 4 + 8) >> 4);
  out[1] = static_cast<uint8_t>((colsum[0] * 3 + colsum[1] + 7) >> 4);
  for (int c = 1; c < n - 1; ++c) {
    const int here = colsum[c] * 3;
    out[2 * c] = static_cast<uint8_t>((here + colsum[c - 1] + 8) >> 4);
    out[2 * c + 1] = static_cast<uint8_t>((here + colsum[c + 1] + 7) >> 4);
  }
  out[2 * n - 2] = static_cast<uint8_t>((colsum[n - 1] * 3 + colsum[n - 2] + 8) >> 4);
  out[2 * n - 1] = static_cast<uint8_t>((colsum[n - 1] * 4 + 7) >> 4);
}

namespace {
constexpr int kScaleBits = 16;
constexpr int fix(double x) { return static_cast<int>(x * (1 << kScaleBits) + 0.5); }
inline uint8_t clamp255(int v) { return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }
}  // namespace

// jdcolor.c's tables, computed inline: the same integer for every entry.
CROSSMODAL_CLONES
void ycc_to_rgb(const uint8_t* y, const uint8_t* cb, const uint8_t* cr, int width, uint8_t* rgb) {
  constexpr int kHalf = 1 << (kScaleBits - 1);
  for (int x = 0; x < width; ++x) {
    const int b = cb[x] - 128, r = cr[x] - 128, luma = y[x];
    rgb[3 * x] = clamp255(luma + ((fix(1.40200) * r + kHalf) >> kScaleBits));
    rgb[3 * x + 1] = clamp255(luma + ((-fix(0.34414) * b + kHalf + -fix(0.71414) * r) >> kScaleBits));
    rgb[3 * x + 2] = clamp255(luma + ((fix(1.77200) * b + kHalf) >> kScaleBits));
  }
}

CROSSMODAL_CLONES
void grey_to_rgb(const uint8_t* y, int width, uint8_t* rgb) {
  for (int x = 0; x < width; ++x) rgb[3 * x] = rgb[3 * x + 1] = rgb[3 * x + 2] = y[x];
}

}  // namespace crossmodal::jpeg
