// Which SIMD levels this CPU (and OS) can run, best first.
#pragma once
#include <string>
#include <vector>

namespace crossmodal {

// Levels in ascending order of capability per architecture:
// x86-64: scalar < sse < avx2 < avx512;  arm64: scalar < neon.
std::vector<std::string> supported_simd_levels();

}  // namespace crossmodal
