#include "dispatch.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "cpu_features.h"

namespace crossmodal {
const KernelTable* kernel_table_for(const std::string& level) {
  if (level == "scalar") return &scalar_kernels();
#if defined(CROSSMODAL_X86)
  if (level == "sse") return &sse_kernels();
  if (level == "avx2") return &avx2_kernels();
  if (level == "avx512") return &avx512_kernels();
#endif
#if defined(CROSSMODAL_ARM64)
  if (level == "neon") return &neon_kernels();
#endif
  return nullptr;
}

namespace {

bool is_supported(const std::string& level) {
  const auto levels = supported_simd_levels();
  return std::find(levels.begin(), levels.end(), level) != levels.end();
}

const KernelTable* initial_table() {
  const std::string best = supported_simd_levels().back();
  const char* forced = std::getenv("CROSSMODAL_SIMD");
  if (forced == nullptr || *forced == '\0') return kernel_table_for(best);
  if (is_supported(forced)) return kernel_table_for(forced);
  std::fprintf(stderr, "crossmodal: CROSSMODAL_SIMD=%s is not supported on this CPU; using %s\n", forced,
               best.c_str());
  return kernel_table_for(best);
}

std::atomic<const KernelTable*>& active() {
  static std::atomic<const KernelTable*> table{initial_table()};
  return table;
}

}  // namespace

const KernelTable& active_kernels() { return *active().load(std::memory_order_acquire); }

bool select_simd_level(const std::string& level) {
  if (!is_supported(level)) return false;
  active().store(kernel_table_for(level), std::memory_order_release);
  return true;
}

}  // namespace crossmodal
