// Compiled with -mavx2 only; called only when the CPU has AVX2.
#include <immintrin.h>

#include "idct.h"

namespace crossmodal::jpeg {
namespace {

inline __m256i mul(__m256i a, int c) { return _mm256_mullo_epi32(a, _mm256_set1_epi32(c)); }
inline __m256i add(__m256i a, __m256i b) { return _mm256_add_epi32(a, b); }
inline __m256i sub(__m256i a, __m256i b) { return _mm256_sub_epi32(a, b); }

// The scalar kernel's idct_1d across eight lanes: in[k] holds element k of eight independent vectors.
template <int Shift>
inline void idct_1d(const __m256i in[8], __m256i out[8]) {
  __m256i z2 = in[2], z3 = in[6];
  __m256i z1 = mul(add(z2, z3), 4433);
  __m256i tmp2 = add(z1, mul(z3, -15137));
  __m256i tmp3 = add(z1, mul(z2, 6270));
  __m256i tmp0 = _mm256_slli_epi32(add(in[0], in[4]), 13);
  __m256i tmp1 = _mm256_slli_epi32(sub(in[0], in[4]), 13);
  const __m256i tmp10 = add(tmp0, tmp3), tmp13 = sub(tmp0, tmp3), tmp11 = add(tmp1, tmp2), tmp12 = sub(tmp1, tmp2);

  tmp0 = in[7];
  tmp1 = in[5];
  tmp2 = in[3];
  tmp3 = in[1];
  z1 = add(tmp0, tmp3);
  z2 = add(tmp1, tmp2);
  z3 = add(tmp0, tmp2);
  __m256i z4 = add(tmp1, tmp3);
  const __m256i z5 = mul(add(z3, z4), 9633);
  tmp0 = mul(tmp0, 2446);
  tmp1 = mul(tmp1, 16819);
  tmp2 = mul(tmp2, 25172);
  tmp3 = mul(tmp3, 12299);
  z1 = mul(z1, -7373);
  z2 = mul(z2, -20995);
  z3 = add(mul(z3, -16069), z5);
  z4 = add(mul(z4, -3196), z5);
  tmp0 = add(tmp0, add(z1, z3));
  tmp1 = add(tmp1, add(z2, z4));
  tmp2 = add(tmp2, add(z2, z3));
  tmp3 = add(tmp3, add(z1, z4));

  const __m256i round = _mm256_set1_epi32(1 << (Shift - 1));
  auto descale = [&](__m256i x) { return _mm256_srai_epi32(add(x, round), Shift); };
  out[0] = descale(add(tmp10, tmp3));
  out[7] = descale(sub(tmp10, tmp3));
  out[1] = descale(add(tmp11, tmp2));
  out[6] = descale(sub(tmp11, tmp2));
  out[2] = descale(add(tmp12, tmp1));
  out[5] = descale(sub(tmp12, tmp1));
  out[3] = descale(add(tmp13, tmp0));
  out[4] = descale(sub(tmp13, tmp0));
}

inline void transpose8x8(__m256i r[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// Four rows of eight int32 samples (already offset by 128) to bytes, saturating like packuswb.
inline void store_rows(const __m256i* rows, uint8_t* out, size_t stride) {
  const __m256i words = _mm256_packus_epi16(_mm256_packs_epi32(rows[0], rows[1]), _mm256_packs_epi32(rows[2], rows[3]));
  // words holds, per 32-bit element: r0[0..3] r1[0..3] r2[0..3] r3[0..3] | r0[4..7] r1[4..7] r2[4..7] r3[4..7]
  const __m256i ordered = _mm256_permutevar8x32_epi32(words, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  const __m128i lo = _mm256_castsi256_si128(ordered), hi = _mm256_extracti128_si256(ordered, 1);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), lo);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out + stride), _mm_unpackhi_epi64(lo, lo));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 2 * stride), hi);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 3 * stride), _mm_unpackhi_epi64(hi, hi));
}

}  // namespace

void idct_islow_avx2(const int16_t* coef, const int32_t* quant, uint8_t* out, size_t stride) {
  __m256i rows[8], cols[8];
  for (int k = 0; k < 8; ++k) {
    const __m256i c = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(coef + 8 * k)));
    rows[k] = _mm256_mullo_epi32(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(quant + 8 * k)));
  }
  idct_1d<11>(rows, cols);  // lanes are columns: pass 1 on all eight at once
  transpose8x8(cols);       // now lanes are rows
  idct_1d<18>(cols, rows);
  transpose8x8(rows);
  const __m256i centre = _mm256_set1_epi32(128);
  for (auto& r : rows) r = add(r, centre);
  store_rows(rows, out, stride);
  store_rows(rows + 4, out + 4 * stride, stride);
}

}  // namespace crossmodal::jpeg
