#include <cstring>

#include "../../dispatch.h"
#include "idct.h"

namespace crossmodal::jpeg {

IdctKernel active_idct() {
#if defined(CROSSMODAL_X86)
  // Follows the scoring kernels' level, so CROSSMODAL_SIMD caps both.
  const char* level = active_kernels().name;
  if (std::strcmp(level, "avx2") == 0 || std::strcmp(level, "avx512") == 0) return idct_islow_avx2;
#endif
  return idct_islow_scalar;
}

}  // namespace crossmodal::jpeg
