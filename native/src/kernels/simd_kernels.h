// Register-tiled kernels written once over a "vector traits" type V. Each
// ISA translation unit defines its V in an anonymous namespace, so every
// instantiation has internal linkage and is compiled with that file's flags
// only (no ODR mixing of AVX-512 code into the baseline build).
//
// V provides: Reg, kWidth, kQueryTile, kRowTile, kSingleQueryRowTile,
// zero(), load(p), load_tail(p, n), store(p, r), store_tail(p, r, n),
// set1(x), mul(a, b), fma(a, b, acc) = acc + a * b, reduce(r).
#pragma once
#include <cstddef>

#include "kernel_table.h"

namespace crossmodal {

template <class V>
struct SimdKernels {
  using Reg = typename V::Reg;
  static constexpr size_t W = V::kWidth;

  // NQ queries x NR rows, accumulated in NQ*NR registers over the shared dim.
  template <int NQ, int NR>
  static inline void dot_tile(const float* q, const float* r, size_t dim, float* out, size_t out_stride) {
    Reg acc[NQ][NR];
    for (int a = 0; a < NQ; ++a)
      for (int b = 0; b < NR; ++b) acc[a][b] = V::zero();
    size_t i = 0;
    for (; i + W <= dim; i += W) {
      Reg rv[NR];
      for (int b = 0; b < NR; ++b) rv[b] = V::load(r + b * dim + i);
      for (int a = 0; a < NQ; ++a) {
        const Reg qv = V::load(q + a * dim + i);
        for (int b = 0; b < NR; ++b) acc[a][b] = V::fma(qv, rv[b], acc[a][b]);
      }
    }
    if (i < dim) {
      const size_t rest = dim - i;
      Reg rv[NR];
      for (int b = 0; b < NR; ++b) rv[b] = V::load_tail(r + b * dim + i, rest);
      for (int a = 0; a < NQ; ++a) {
        const Reg qv = V::load_tail(q + a * dim + i, rest);
        for (int b = 0; b < NR; ++b) acc[a][b] = V::fma(qv, rv[b], acc[a][b]);
      }
    }
    for (int a = 0; a < NQ; ++a)
      for (int b = 0; b < NR; ++b) out[a * out_stride + b] = V::reduce(acc[a][b]);
  }

  template <int NQ>
  static inline void dot_rows(const float* q, const float* rows, size_t nr, size_t dim, float* out, size_t out_stride) {
    constexpr int RT = NQ == 1 ? V::kSingleQueryRowTile : V::kRowTile;
    size_t r = 0;
    for (; r + RT <= nr; r += RT) dot_tile<NQ, RT>(q, rows + r * dim, dim, out + r, out_stride);
    for (; r < nr; ++r) dot_tile<NQ, 1>(q, rows + r * dim, dim, out + r, out_stride);
  }

  static void dot_block(const float* queries, size_t nq, const float* rows, size_t nr, size_t dim, float* out,
                        size_t out_stride) {
    constexpr int QT = V::kQueryTile;
    size_t q = 0;
    for (; q + QT <= nq; q += QT) dot_rows<QT>(queries + q * dim, rows, nr, dim, out + q * out_stride, out_stride);
    for (; q < nq; ++q) dot_rows<1>(queries + q * dim, rows, nr, dim, out + q * out_stride, out_stride);
  }

  static void sum_squares(const float* rows, size_t nr, size_t dim, float* out) {
    // A row's sum of squares is its dot with itself; the single-query tile
    // keeps kSingleQueryRowTile independent accumulator chains in flight.
    constexpr int RT = V::kSingleQueryRowTile;
    size_t r = 0;
    for (; r + RT <= nr; r += RT) {
      Reg acc[RT];
      for (int b = 0; b < RT; ++b) acc[b] = V::zero();
      size_t i = 0;
      for (; i + W <= dim; i += W)
        for (int b = 0; b < RT; ++b) {
          const Reg v = V::load(rows + (r + b) * dim + i);
          acc[b] = V::fma(v, v, acc[b]);
        }
      if (i < dim)
        for (int b = 0; b < RT; ++b) {
          const Reg v = V::load_tail(rows + (r + b) * dim + i, dim - i);
          acc[b] = V::fma(v, v, acc[b]);
        }
      for (int b = 0; b < RT; ++b) out[r + b] = V::reduce(acc[b]);
    }
    for (; r < nr; ++r) {
      const float* row = rows + r * dim;
      dot_tile<1, 1>(row, row, dim, out + r, 1);
    }
  }

  static void scale(float* row, size_t dim, float factor) {
    const Reg f = V::set1(factor);
    size_t i = 0;
    for (; i + W <= dim; i += W) V::store(row + i, V::mul(V::load(row + i), f));
    if (i < dim) V::store_tail(row + i, V::mul(V::load_tail(row + i, dim - i), f), dim - i);
  }

  static const KernelTable& table(const char* name) {
    static const KernelTable t{name, dot_block, sum_squares, scale};
    return t;
  }
};

}  // namespace crossmodal
