// AVX-512F kernels: 16 floats per register, masked loads for the tail.
#include <immintrin.h>

#include "simd_kernels.h"

namespace crossmodal {
namespace {

struct Avx512 {
  using Reg = __m512;
  static constexpr size_t kWidth = 16;
  static constexpr int kQueryTile = 4;
  static constexpr int kRowTile = 4;
  static constexpr int kSingleQueryRowTile = 8;

  static __mmask16 mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg set1(float x) { return _mm512_set1_ps(x); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg load_tail(const float* p, size_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(float* p, Reg r) { _mm512_storeu_ps(p, r); }
  static void store_tail(float* p, Reg r, size_t n) { _mm512_mask_storeu_ps(p, mask(n), r); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg acc) { return _mm512_fmadd_ps(a, b, acc); }
  // Not _mm512_reduce_add_ps: GCC 12 builds it from undefined registers and warns.
  static float reduce(Reg r) {
    const __m512d d = _mm512_castps_pd(r);
    const __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, d, 0));
    const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, d, 1));
    const __m256 sum8 = _mm256_add_ps(lo, hi);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(sum8), _mm256_extractf128_ps(sum8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace

const KernelTable& avx512_kernels() { return SimdKernels<Avx512>::table("avx512"); }

}  // namespace crossmodal
