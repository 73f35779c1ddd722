#include "idct.h"

namespace crossmodal::jpeg {
namespace {

constexpr int kConstBits = 13;
constexpr int kPass1Bits = 2;

constexpr int64_t kFix_0_298631336 = 2446;
constexpr int64_t kFix_0_390180644 = 3196;
constexpr int64_t kFix_0_541196100 = 4433;
constexpr int64_t kFix_0_765366865 = 6270;
constexpr int64_t kFix_0_899976223 = 7373;
constexpr int64_t kFix_1_175875602 = 9633;
constexpr int64_t kFix_1_501321110 = 12299;
constexpr int64_t kFix_1_847759065 = 15137;
constexpr int64_t kFix_1_961570560 = 16069;
constexpr int64_t kFix_2_053119869 = 16819;
constexpr int64_t kFix_2_562915447 = 20995;
constexpr int64_t kFix_3_072711026 = 25172;

inline int64_t descale(int64_t x, int n) { return (x + (int64_t{1} << (n - 1))) >> n; }

inline uint8_t clamp_sample(int64_t x) {
  const int64_t v = x + 128;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// One 1-D IDCT over in[0..7] (stride `step`), results descaled by `shift`.
inline void idct_1d(const int64_t in[8], int64_t out[8], int shift) {
  int64_t z2 = in[2], z3 = in[6];
  int64_t z1 = (z2 + z3) * kFix_0_541196100;
  int64_t tmp2 = z1 + z3 * -kFix_1_847759065;
  int64_t tmp3 = z1 + z2 * kFix_0_765366865;
  int64_t tmp0 = (in[0] + in[4]) * (int64_t{1} << kConstBits);
  int64_t tmp1 = (in[0] - in[4]) * (int64_t{1} << kConstBits);
  const int64_t tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

  tmp0 = in[7];
  tmp1 = in[5];
  tmp2 = in[3];
  tmp3 = in[1];
  z1 = tmp0 + tmp3;
  z2 = tmp1 + tmp2;
  z3 = tmp0 + tmp2;
  int64_t z4 = tmp1 + tmp3;
  const int64_t z5 = (z3 + z4) * kFix_1_175875602;
  tmp0 *= kFix_0_298631336;
  tmp1 *= kFix_2_053119869;
  tmp2 *= kFix_3_072711026;
  tmp3 *= kFix_1_501321110;
  z1 *= -kFix_0_899976223;
  z2 *= -kFix_2_562915447;
  z3 *= -kFix_1_961570560;
  z4 *= -kFix_0_390180644;
  z3 += z5;
  z4 += z5;
  tmp0 += z1 + z3;
  tmp1 += z2 + z4;
  tmp2 += z2 + z3;
  tmp3 += z1 + z4;

  out[0] = descale(tmp10 + tmp3, shift);
  out[7] = descale(tmp10 - tmp3, shift);
  out[1] = descale(tmp11 + tmp2, shift);
  out[6] = descale(tmp11 - tmp2, shift);
  out[2] = descale(tmp12 + tmp1, shift);
  out[5] = descale(tmp12 - tmp1, shift);
  out[3] = descale(tmp13 + tmp0, shift);
  out[4] = descale(tmp13 - tmp0, shift);
}

}  // namespace

void idct_islow_scalar(const int16_t* coef, const int32_t* quant, uint8_t* out, size_t stride) {
  int64_t workspace[64];
  int64_t column[8], result[8];
  // Pass 1: columns, into the workspace scaled up by kPass1Bits.
  for (int x = 0; x < 8; ++x) {
    for (int k = 0; k < 8; ++k) column[k] = int64_t{coef[k * 8 + x]} * quant[k * 8 + x];
    idct_1d(column, result, kConstBits - kPass1Bits);
    for (int k = 0; k < 8; ++k) workspace[k * 8 + x] = result[k];
  }
  // Pass 2: rows, descaled by the 8 of the 2-D transform as well.
  for (int y = 0; y < 8; ++y) {
    idct_1d(workspace + y * 8, result, kConstBits + kPass1Bits + 3);
    for (int x = 0; x < 8; ++x) out[y * stride + x] = clamp_sample(result[x]);
  }
}

}  // namespace crossmodal::jpeg
