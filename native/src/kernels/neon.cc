// AArch64 NEON kernels (NEON is mandatory on arm64): 4 floats per register,
// 32 registers so the same 4x4 tile as AVX-512 fits.
#include <arm_neon.h>

#include <cstring>

#include "simd_kernels.h"

namespace crossmodal {
namespace {

struct Neon {
  using Reg = float32x4_t;
  static constexpr size_t kWidth = 4;
  static constexpr int kQueryTile = 4;
  static constexpr int kRowTile = 4;
  static constexpr int kSingleQueryRowTile = 8;

  static Reg zero() { return vdupq_n_f32(0.0f); }
  static Reg set1(float x) { return vdupq_n_f32(x); }
  static Reg load(const float* p) { return vld1q_f32(p); }
  static Reg load_tail(const float* p, size_t n) {
    float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(buf, p, n * sizeof(float));
    return vld1q_f32(buf);
  }
  static void store(float* p, Reg r) { vst1q_f32(p, r); }
  static void store_tail(float* p, Reg r, size_t n) {
    float buf[4];
    vst1q_f32(buf, r);
    std::memcpy(p, buf, n * sizeof(float));
  }
  static Reg mul(Reg a, Reg b) { return vmulq_f32(a, b); }
  static Reg fma(Reg a, Reg b, Reg acc) { return vfmaq_f32(acc, a, b); }
  static float reduce(Reg r) { return vaddvq_f32(r); }
};

}  // namespace

const KernelTable& neon_kernels() { return SimdKernels<Neon>::table("neon"); }

}  // namespace crossmodal
