// The product's core scans, ISA-independent: blocking, threading and top-k
// selection around the active kernel table.
#pragma once
#include <cstddef>
#include <cstdint>

namespace crossmodal {

enum class Metric { Dot, Cosine };

// 0 threads means "choose from the amount of work".
unsigned resolve_threads(unsigned requested, size_t rows, size_t dim, size_t queries);

// Scales each row to unit L2 norm in place; all-zero rows stay zero.
void l2_normalize(float* matrix, size_t rows, size_t dim, unsigned threads);

// out[q * rows + r] = score(queries[q], matrix[r]).
void score_matrix(const float* queries, size_t nq, const float* matrix, size_t rows, size_t dim, Metric metric,
                  unsigned threads, float* out);

// Per query the min(k, rows) best rows, best first, ties by lower row index;
// NaN scores rank below every number. Outputs are nq x min(k, rows).
void top_k(const float* queries, size_t nq, const float* matrix, size_t rows, size_t dim, size_t k, Metric metric,
           unsigned threads, uint32_t* out_indices, float* out_scores);

}  // namespace crossmodal
