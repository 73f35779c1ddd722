// The per-ISA kernel interface. Every instruction set implements the same
// three primitives; dispatch.cc picks one table at load time.
#pragma once
#include <cstddef>

namespace crossmodal {

struct KernelTable {
  const char* name;
  // out[qi * out_stride + ri] = dot(queries[qi], rows[ri]) for a block of
  // queries and rows, both row-major with `dim` floats per row.
  void (*dot_block)(const float* queries, size_t nq, const float* rows, size_t nr, size_t dim, float* out,
                    size_t out_stride);
  // out[ri] = sum of squares of rows[ri].
  void (*sum_squares)(const float* rows, size_t nr, size_t dim, float* out);
  // row[i] *= factor.
  void (*scale)(float* row, size_t dim, float factor);
};

const KernelTable& scalar_kernels();
#if defined(CROSSMODAL_X86)
const KernelTable& sse_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();
#endif
#if defined(CROSSMODAL_ARM64)
const KernelTable& neon_kernels();
#endif

}  // namespace crossmodal
