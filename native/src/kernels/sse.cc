// Baseline x86-64 kernels (SSE2, which every x86-64 CPU has): 4 floats per
// register, no FMA, tails through a zero-padded stack buffer.
#include <emmintrin.h>

#include <cstring>

#include "simd_kernels.h"

namespace crossmodal {
namespace {

struct Sse2 {
  using Reg = __m128;
  static constexpr size_t kWidth = 4;
  static constexpr int kQueryTile = 2;
  static constexpr int kRowTile = 4;
  static constexpr int kSingleQueryRowTile = 8;

  static Reg zero() { return _mm_setzero_ps(); }
  static Reg set1(float x) { return _mm_set1_ps(x); }
  static Reg load(const float* p) { return _mm_loadu_ps(p); }
  static Reg load_tail(const float* p, size_t n) {
    alignas(16) float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(buf, p, n * sizeof(float));
    return _mm_load_ps(buf);
  }
  static void store(float* p, Reg r) { _mm_storeu_ps(p, r); }
  static void store_tail(float* p, Reg r, size_t n) {
    alignas(16) float buf[4];
    _mm_store_ps(buf, r);
    std::memcpy(p, buf, n * sizeof(float));
  }
  static Reg mul(Reg a, Reg b) { return _mm_mul_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg acc) { return _mm_add_ps(acc, _mm_mul_ps(a, b)); }
  static float reduce(Reg r) {
    __m128 s = _mm_add_ps(r, _mm_movehl_ps(r, r));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace

const KernelTable& sse_kernels() { return SimdKernels<Sse2>::table("sse"); }

}  // namespace crossmodal
