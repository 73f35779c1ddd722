// Scalar reference kernels: the plainest correct code, used on CPUs with no
// supported SIMD and as the ground truth the vector kernels are tested against.
#include "kernel_table.h"

namespace crossmodal {
namespace {

float dot(const float* a, const float* b, size_t dim) {
  float sum = 0.0f;
  for (size_t i = 0; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

void dot_block(const float* queries, size_t nq, const float* rows, size_t nr, size_t dim, float* out,
               size_t out_stride) {
  for (size_t q = 0; q < nq; ++q)
    for (size_t r = 0; r < nr; ++r) out[q * out_stride + r] = dot(queries + q * dim, rows + r * dim, dim);
}

void sum_squares(const float* rows, size_t nr, size_t dim, float* out) {
  for (size_t r = 0; r < nr; ++r) out[r] = dot(rows + r * dim, rows + r * dim, dim);
}

void scale(float* row, size_t dim, float factor) {
  for (size_t i = 0; i < dim; ++i) row[i] *= factor;
}

}  // namespace

const KernelTable& scalar_kernels() {
  static const KernelTable table{"scalar", dot_block, sum_squares, scale};
  return table;
}

}  // namespace crossmodal
