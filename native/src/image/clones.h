// Plain loops the compiler vectorises get an AVX2 copy beside the baseline
// one, picked at load time (GCC/Clang function multiversioning on x86-64).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define CROSSMODAL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CROSSMODAL_CLONES
#endif
