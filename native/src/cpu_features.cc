#include "cpu_features.h"

#if defined(CROSSMODAL_X86)
#include <cpuid.h>
#include <cstdint>
#endif

namespace crossmodal {

#if defined(CROSSMODAL_X86)
namespace {

// XCR0 says which register states the OS saves on context switch; a CPU
// flag alone is not enough to use YMM/ZMM registers.
uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

}  // namespace

std::vector<std::string> supported_simd_levels() {
  std::vector<std::string> levels{"scalar", "sse"};
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return levels;
  const bool osxsave = ecx & bit_OSXSAVE;
  const bool avx = ecx & bit_AVX;
  const bool fma = ecx & bit_FMA;
  if (!osxsave || !avx) return levels;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return levels;
  const bool avx2 = ebx & bit_AVX2;
  const bool avx512f = ebx & bit_AVX512F;
  if (ymm_state && avx2 && fma) levels.push_back("avx2");
  if (zmm_state && avx512f && fma) levels.push_back("avx512");
  return levels;
}

#elif defined(CROSSMODAL_ARM64)

std::vector<std::string> supported_simd_levels() { return {"scalar", "neon"}; }

#else

std::vector<std::string> supported_simd_levels() { return {"scalar"}; }

#endif

}  // namespace crossmodal
