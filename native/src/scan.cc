#include "scan.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "dispatch.h"
#include "parallel.h"

namespace crossmodal {
namespace {

// Rows scored per step: small enough to stay in L2 while every query block
// reads them, large enough to amortise the per-chunk bookkeeping.
constexpr size_t kChunkBytes = 128 * 1024;
// Queries scored against one pass over the matrix.
constexpr size_t kQueryBlock = 64;
// Below this many multiply-adds per thread, starting a thread costs more than it saves.
constexpr size_t kMinWorkPerThread = size_t{1} << 22;

size_t chunk_rows(size_t dim) { return std::clamp<size_t>(kChunkBytes / (dim * sizeof(float)), 16, 4096); }

float inverse_norm(float sum_of_squares) {
  return sum_of_squares > 0.0f ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(sum_of_squares))) : 0.0f;
}

std::vector<float> inverse_norms(const float* rows, size_t n, size_t dim) {
  std::vector<float> out(n);
  active_kernels().sum_squares(rows, n, dim, out.data());
  for (float& v : out) v = inverse_norm(v);
  return out;
}

struct Entry {
  float score;
  uint32_t index;
};

float rank_key(float score) { return std::isnan(score) ? -INFINITY : score; }

bool better(const Entry& a, const Entry& b) {
  const float ka = rank_key(a.score), kb = rank_key(b.score);
  return ka > kb || (ka == kb && a.index < b.index);
}

// Bounded selection of the best k entries. Rows arrive in increasing index
// order within one heap, so a score equal to the current worst never wins.
class TopKHeap {
 public:
  explicit TopKHeap(size_t k) : k_(k) { heap_.reserve(k); }

  void offer(float score, uint32_t index) {
    if (heap_.size() < k_) {
      heap_.push_back({score, index});
      std::push_heap(heap_.begin(), heap_.end(), better);
      if (heap_.size() == k_) threshold_ = rank_key(heap_.front().score);
    } else if (score > threshold_) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = {score, index};
      std::push_heap(heap_.begin(), heap_.end(), better);
      threshold_ = rank_key(heap_.front().score);
    }
  }

  // Fast reject: true when a score can be ignored without calling offer().
  bool rejects(float score) const { return heap_.size() == k_ && !(score > threshold_); }

  const std::vector<Entry>& entries() const { return heap_; }

 private:
  size_t k_;
  std::vector<Entry> heap_;  // front() is the worst kept entry
  float threshold_ = -INFINITY;
};

}  // namespace

unsigned resolve_threads(unsigned requested, size_t rows, size_t dim, size_t queries) {
  if (rows == 0) return 1;
  if (requested > 0) return static_cast<unsigned>(std::min<size_t>(requested, rows));
  const size_t work = rows * dim * std::max<size_t>(queries, 1);
  const size_t hw = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::clamp<size_t>(work / kMinWorkPerThread, 1, std::min(hw, rows)));
}

void l2_normalize(float* matrix, size_t rows, size_t dim, unsigned threads) {
  const KernelTable& kernels = active_kernels();
  const size_t chunk = chunk_rows(dim);
  parallel_ranges(rows, threads, [&](size_t begin, size_t end, unsigned) {
    std::vector<float> sums(chunk);
    for (size_t c = begin; c < end; c += chunk) {
      const size_t n = std::min(chunk, end - c);
      kernels.sum_squares(matrix + c * dim, n, dim, sums.data());
      for (size_t r = 0; r < n; ++r)
        if (sums[r] > 0.0f) kernels.scale(matrix + (c + r) * dim, dim, inverse_norm(sums[r]));
    }
  });
}

void score_matrix(const float* queries, size_t nq, const float* matrix, size_t rows, size_t dim, Metric metric,
                  unsigned threads, float* out) {
  const KernelTable& kernels = active_kernels();
  const size_t chunk = chunk_rows(dim);
  const std::vector<float> query_inv =
      metric == Metric::Cosine ? inverse_norms(queries, nq, dim) : std::vector<float>{};
  parallel_ranges(rows, threads, [&](size_t begin, size_t end, unsigned) {
    std::vector<float> row_inv(chunk);
    for (size_t q0 = 0; q0 < nq; q0 += kQueryBlock) {
      const size_t qn = std::min(kQueryBlock, nq - q0);
      for (size_t c = begin; c < end; c += chunk) {
        const size_t n = std::min(chunk, end - c);
        float* block = out + q0 * rows + c;
        kernels.dot_block(queries + q0 * dim, qn, matrix + c * dim, n, dim, block, rows);
        if (metric != Metric::Cosine) continue;
        kernels.sum_squares(matrix + c * dim, n, dim, row_inv.data());
        for (size_t r = 0; r < n; ++r) row_inv[r] = inverse_norm(row_inv[r]);
        for (size_t q = 0; q < qn; ++q)
          for (size_t r = 0; r < n; ++r) block[q * rows + r] *= query_inv[q0 + q] * row_inv[r];
      }
    }
  });
}

void top_k(const float* queries, size_t nq, const float* matrix, size_t rows, size_t dim, size_t k, Metric metric,
           unsigned threads, uint32_t* out_indices, float* out_scores) {
  const size_t keep = std::min(k, rows);
  if (keep == 0 || nq == 0) return;
  const KernelTable& kernels = active_kernels();
  const size_t chunk = chunk_rows(dim);
  const std::vector<float> query_inv =
      metric == Metric::Cosine ? inverse_norms(queries, nq, dim) : std::vector<float>{};
  // heaps[part * nq + q]: each thread selects from its own slice of rows.
  std::vector<TopKHeap> heaps(size_t{threads} * nq, TopKHeap(keep));

  parallel_ranges(rows, threads, [&](size_t begin, size_t end, unsigned part) {
    TopKHeap* mine = heaps.data() + size_t{part} * nq;
    std::vector<float> scores(kQueryBlock * chunk);
    std::vector<float> row_inv(chunk);
    for (size_t q0 = 0; q0 < nq; q0 += kQueryBlock) {
      const size_t qn = std::min(kQueryBlock, nq - q0);
      for (size_t c = begin; c < end; c += chunk) {
        const size_t n = std::min(chunk, end - c);
        kernels.dot_block(queries + q0 * dim, qn, matrix + c * dim, n, dim, scores.data(), n);
        if (metric == Metric::Cosine) {
          kernels.sum_squares(matrix + c * dim, n, dim, row_inv.data());
          for (size_t r = 0; r < n; ++r) row_inv[r] = inverse_norm(row_inv[r]);
        }
        for (size_t q = 0; q < qn; ++q) {
          TopKHeap& heap = mine[q0 + q];
          const float* s = scores.data() + q * n;
          const float qinv = metric == Metric::Cosine ? query_inv[q0 + q] : 1.0f;
          for (size_t r = 0; r < n; ++r) {
            const float score = metric == Metric::Cosine ? s[r] * qinv * row_inv[r] : s[r];
            if (!heap.rejects(score)) heap.offer(score, static_cast<uint32_t>(c + r));
          }
        }
      }
    }
  });

  std::vector<Entry> merged;
  for (size_t q = 0; q < nq; ++q) {
    merged.clear();
    for (unsigned p = 0; p < threads; ++p) {
      const auto& e = heaps[size_t{p} * nq + q].entries();
      merged.insert(merged.end(), e.begin(), e.end());
    }
    std::partial_sort(merged.begin(), merged.begin() + keep, merged.end(), better);
    for (size_t i = 0; i < keep; ++i) {
      out_indices[q * keep + i] = merged[i].index;
      out_scores[q * keep + i] = merged[i].score;
    }
  }
}

}  // namespace crossmodal
