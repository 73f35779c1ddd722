#include "upsample_color.h"

#include <algorithm>

#include "../clones.h"

namespace crossmodal::jpeg {


// libjpeg special-cases the first and last columns; those formulas equal the general one with the
// missing neighbour replaced by the edge sample, which is how both functions treat them.
CROSSMODAL_CLONES
void upsample_h2v1(const uint8_t* __restrict__ in, int n, int c0, int c1, uint8_t* __restrict__ out) {
  auto column = [&](int c) {
    const int here = in[c] * 3;
    out[2 * c] = static_cast<uint8_t>((here + in[std::max(c - 1, 0)] + 1) >> 2);
    out[2 * c + 1] = static_cast<uint8_t>((here + in[std::min(c + 1, n - 1)] + 2) >> 2);
  };
  if (c0 == 0 && c1 > 0) column(c0++);
  const int interior_end = std::min(c1, n - 1);
  for (int c = c0; c < interior_end; ++c) {
    const int here = in[c] * 3;
    out[2 * c] = static_cast<uint8_t>((here + in[c - 1] + 1) >> 2);
    out[2 * c + 1] = static_cast<uint8_t>((here + in[c + 1] + 2) >> 2);
  }
  if (c1 == n && interior_end >= c0) column(n - 1);
}

CROSSMODAL_CLONES
void upsample_h2v2(const uint8_t* __restrict__ near, const uint8_t* __restrict__ far, int n, int c0, int c1,
                   int16_t* __restrict__ colsum, uint8_t* __restrict__ out) {
  const int s0 = std::max(c0 - 1, 0), s1 = std::min(c1 + 1, n);
  for (int c = s0; c < s1; ++c) colsum[c] = static_cast<int16_t>(near[c] * 3 + far[c]);
  auto column = [&](int c) {
    const int here = colsum[c] * 3;
    out[2 * c] = static_cast<uint8_t>((here + colsum[std::max(c - 1, 0)] + 8) >> 4);
    out[2 * c + 1] = static_cast<uint8_t>((here + colsum[std::min(c + 1, n - 1)] + 7) >> 4);
  };
  if (c0 == 0 && c1 > 0) column(c0++);
  const int interior_end = std::min(c1, n - 1);
  for (int c = c0; c < interior_end; ++c) {
    const int here = colsum[c] * 3;
    out[2 * c] = static_cast<uint8_t>((here + colsum[c - 1] + 8) >> 4);
    out[2 * c + 1] = static_cast<uint8_t>((here + colsum[c + 1] + 7) >> 4);
  }
  if (c1 == n && interior_end >= c0) column(n - 1);
}

namespace {
constexpr int kScaleBits = 16;
constexpr int kHalf = 1 << (kScaleBits - 1);
constexpr int fix(double x) { return static_cast<int>(x * (1 << kScaleBits) + 0.5); }
inline int clamp255(int v) { return v < 0 ? 0 : v > 255 ? 255 : v; }

// jdcolor.c's table entries, computed: the same integers.
inline int red(int y, int cr) { return clamp255(y + ((fix(1.40200) * (cr - 128) + kHalf) >> kScaleBits)); }
inline int green(int y, int cb, int cr) {
  return clamp255(y + ((-fix(0.34414) * (cb - 128) + kHalf + -fix(0.71414) * (cr - 128)) >> kScaleBits));
}
inline int blue(int y, int cb) { return clamp255(y + ((fix(1.77200) * (cb - 128) + kHalf) >> kScaleBits)); }
}  // namespace

CROSSMODAL_CLONES
void ycc_to_rgb(const uint8_t* __restrict__ y, const uint8_t* __restrict__ cb, const uint8_t* __restrict__ cr, int x0, int x1,
                uint8_t* __restrict__ rgb) {
  for (int x = x0; x < x1; ++x) {
    rgb[3 * x] = static_cast<uint8_t>(red(y[x], cr[x]));
    rgb[3 * x + 1] = static_cast<uint8_t>(green(y[x], cb[x], cr[x]));
    rgb[3 * x + 2] = static_cast<uint8_t>(blue(y[x], cb[x]));
  }
}

CROSSMODAL_CLONES
void ycc_to_planes(const uint8_t* __restrict__ y, const uint8_t* __restrict__ cb, const uint8_t* __restrict__ cr, int x0,
                   int x1, int32_t* __restrict__ r, int32_t* __restrict__ g, int32_t* __restrict__ b) {
  for (int x = x0; x < x1; ++x) {
    r[x] = red(y[x], cr[x]);
    g[x] = green(y[x], cb[x], cr[x]);
    b[x] = blue(y[x], cb[x]);
  }
}

CROSSMODAL_CLONES
void grey_to_rgb(const uint8_t* __restrict__ y, int x0, int x1, uint8_t* __restrict__ rgb) {
  for (int x = x0; x < x1; ++x) rgb[3 * x] = rgb[3 * x + 1] = rgb[3 * x + 2] = y[x];
}

CROSSMODAL_CLONES
void grey_to_planes(const uint8_t* __restrict__ y, int x0, int x1, int32_t* __restrict__ r, int32_t* __restrict__ g,
                    int32_t* __restrict__ b) {
  for (int x = x0; x < x1; ++x) r[x] = g[x] = b[x] = y[x];
}

}  // namespace crossmodal::jpeg
