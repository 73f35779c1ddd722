// AVX2 + FMA kernels: 8 floats per register, maskload/maskstore for the tail.
#include <immintrin.h>

#include "simd_kernels.h"

namespace crossmodal {
namespace {

alignas(32) const int kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

struct Avx2 {
  using Reg = __m256;
  static constexpr size_t kWidth = 8;
  static constexpr int kQueryTile = 2;
  static constexpr int kRowTile = 4;
  static constexpr int kSingleQueryRowTile = 8;

  static __m256i mask(size_t n) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - n)); }
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg set1(float x) { return _mm256_set1_ps(x); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg load_tail(const float* p, size_t n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store(float* p, Reg r) { _mm256_storeu_ps(p, r); }
  static void store_tail(float* p, Reg r, size_t n) { _mm256_maskstore_ps(p, mask(n), r); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg acc) { return _mm256_fmadd_ps(a, b, acc); }
  static float reduce(Reg r) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace

const KernelTable& avx2_kernels() { return SimdKernels<Avx2>::table("avx2"); }

}  // namespace crossmodal
