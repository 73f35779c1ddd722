// Standalone check of every compiled SIMD kernel table against the scalar
// reference, without Node: lets the NEON kernels be verified under
// qemu-aarch64 from an x86 machine (see test/native/kernels-cross.test.ts).
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../src/cpu_features.h"
#include "../src/dispatch.h"
#include "../src/kernels/kernel_table.h"

using namespace crossmodal;

int main() {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  const KernelTable& ref = scalar_kernels();
  int failures = 0;
  for (const std::string& level : supported_simd_levels()) {
    const KernelTable* k = kernel_table_for(level);
    for (size_t dim : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 129, 257, 512, 513, 1031}) {
      const size_t nq = 6, nr = 19;
      // +1 so views start at an unaligned offset.
      std::vector<float> q(nq * dim + 1), r(nr * dim + 1);
      for (auto& v : q) v = uni(rng);
      for (auto& v : r) v = uni(rng);
      const float* qv = q.data() + 1;
      const float* rv = r.data() + 1;
      std::vector<float> got(nq * nr), want(nq * nr), gs(nr), ws(nr);
      k->dot_block(qv, nq, rv, nr, dim, got.data(), nr);
      ref.dot_block(qv, nq, rv, nr, dim, want.data(), nr);
      k->sum_squares(rv, nr, dim, gs.data());
      ref.sum_squares(rv, nr, dim, ws.data());
      const float tol = 1e-5f * static_cast<float>(dim);
      for (size_t i = 0; i < got.size(); ++i)
        if (std::fabs(got[i] - want[i]) > tol) {
          std::printf("FAIL %s dim=%zu dot[%zu]: %g vs %g\n", level.c_str(), dim, i, got[i], want[i]);
          ++failures;
        }
      for (size_t i = 0; i < nr; ++i)
        if (std::fabs(gs[i] - ws[i]) > tol) {
          std::printf("FAIL %s dim=%zu sum_squares[%zu]: %g vs %g\n", level.c_str(), dim, i, gs[i], ws[i]);
          ++failures;
        }
      std::vector<float> a(r.begin() + 1, r.begin() + 1 + dim), b = a;
      k->scale(a.data(), dim, 0.37f);
      ref.scale(b.data(), dim, 0.37f);
      for (size_t i = 0; i < dim; ++i)
        if (a[i] != b[i]) {
          std::printf("FAIL %s dim=%zu scale[%zu]\n", level.c_str(), dim, i);
          ++failures;
        }
    }
    std::printf("%s %s\n", level.c_str(), failures ? "failed" : "ok");
  }
  return failures ? 1 : 0;
}
