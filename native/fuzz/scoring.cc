// Fuzz target `scoring`: the scans behind l2Normalize, dotScores/cosineScores and topK on every SIMD
// level this CPU runs, with the shapes the addon's argument checks admit (addon.cc: dim >= 1, each
// array a whole number of rows, k in [1, 2^32 - 1], threads in [0, 1024] through resolve_threads)
// and hostile values (NaN, infinities, huge, denormal, ties). topK must be the best min(k, rows) rows
// of the score matrix, best first, ties by lower row, NaN last: exactly for dot products, to rounding
// for cosine (whose two paths multiply the norms in another order).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "cpu_features.h"
#include "dispatch.h"
#include "harness.h"
#include "scan.h"

namespace {

using crossmodal::Metric;

fuzz::PrintCountersAtExit print_counters;
fuzz::Counter inputs{"inputs"}, scanned{"scanned"};

constexpr size_t kMaxFloats = size_t{1} << 17;

float value(FuzzedDataProvider& in, fuzz::Rng& rng, int mode) {
  static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                  3.0e38f, -3.0e38f, 1.0e-45f, 1.0e-38f, 0.5f};
  switch (mode) {
    case 0: return static_cast<float>(static_cast<int64_t>(rng.next() % 2001) - 1000) / 1000.0f;
    case 1: return static_cast<float>(static_cast<int64_t>(rng.next() % 3) - 1);  // many ties
    case 2: return special[rng.next() % (sizeof special / sizeof special[0])];
    default: {
      // The input's own bytes as floats, any bit pattern.
      const uint32_t bits = in.remaining_bytes() >= 4 ? in.ConsumeIntegral<uint32_t>() : static_cast<uint32_t>(rng.next());
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
  }
}

float rank_key(float s) { return std::isnan(s) ? -INFINITY : s; }
bool better(float a, uint32_t ia, float b, uint32_t ib) {
  const float ka = rank_key(a), kb = rank_key(b);
  return ka > kb || (ka == kb && ia < ib);
}

bool close(float got, float want) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) == std::isnan(got) || std::isinf(want) || std::isinf(got);
  if (std::isinf(want) || std::isinf(got)) return true;  // a product that rounds past FLT_MAX either way
  return std::fabs(got - want) <= 1e-5f * std::max(1.0f, std::fabs(want));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ++inputs;
  fuzz::Rng rng(in.ConsumeIntegral<uint64_t>());
  static const std::vector<std::string> levels = crossmodal::supported_simd_levels();
  crossmodal::select_simd_level(levels[in.ConsumeIntegralInRange<size_t>(0, levels.size() - 1)]);

  const size_t dim = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(1, 40) : in.ConsumeIntegralInRange<size_t>(1, 1100);
  size_t nq = in.ConsumeIntegralInRange<size_t>(0, in.ConsumeBool() ? 4 : 140);
  size_t rows = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(0, 64) : in.ConsumeIntegralInRange<size_t>(0, 5000);
  if ((nq + rows) * dim > kMaxFloats) {
    nq = std::min(nq, kMaxFloats / dim / 2);
    rows = std::min(rows, kMaxFloats / dim / 2);
  }
  size_t k;
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: k = in.ConsumeIntegralInRange<size_t>(1, 10); break;
    case 1: k = in.ConsumeIntegralInRange<size_t>(1, rows + 2); break;
    case 2: k = 4294967295u; break;
    default: k = std::max<size_t>(1, in.ConsumeIntegral<uint32_t>()); break;
  }
  unsigned requested;
  switch (in.ConsumeIntegralInRange(0, 15)) {
    case 0: requested = 1024; break;  // the most the addon accepts (a thousand threads: rare, it is slow)
    case 1: case 2: case 3: requested = 0; break;
    default: requested = in.ConsumeIntegralInRange(1u, 9u); break;
  }
  const Metric metric = in.ConsumeBool() ? Metric::Cosine : Metric::Dot;
  const int mode = in.ConsumeIntegralInRange(0, 3);

  std::vector<float> queries(nq * dim), matrix(rows * dim);
  for (float& f : queries) f = value(in, rng, mode);
  for (float& f : matrix) f = value(in, rng, mode);

  std::vector<float> normalized(matrix);
  crossmodal::l2_normalize(normalized.data(), rows, dim, crossmodal::resolve_threads(requested, rows, dim, 1));
  const unsigned threads = crossmodal::resolve_threads(requested, rows, dim, nq);
  std::vector<float> scores(nq * rows);
  crossmodal::score_matrix(queries.data(), nq, matrix.data(), rows, dim, metric, threads, scores.data());
  const size_t keep = std::min(k, rows);
  std::vector<uint32_t> top(nq * keep);
  std::vector<float> top_scores(nq * keep);
  crossmodal::top_k(queries.data(), nq, matrix.data(), rows, dim, k, metric, threads, top.data(), top_scores.data());
  ++scanned;

  std::vector<uint32_t> order(rows);
  for (size_t q = 0; q < nq; ++q) {
    const float* s = scores.data() + q * rows;
    const uint32_t* got = top.data() + q * keep;
    const float* got_scores = top_scores.data() + q * keep;
    for (size_t i = 0; i < keep; ++i) {
      if (got[i] >= rows) fuzz::fail("topK returned a row that does not exist");
      if (!close(got_scores[i], s[got[i]])) fuzz::fail("topK's score is not the row's score");
      if (i > 0 && !better(got_scores[i - 1], got[i - 1], got_scores[i], got[i])) fuzz::fail("topK is not best first");
    }
    if (metric != Metric::Dot) continue;
    std::iota(order.begin(), order.end(), 0u);
    std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(keep), order.end(),
                      [&](uint32_t a, uint32_t b) { return better(s[a], a, s[b], b); });
    if (!std::equal(order.begin(), order.begin() + static_cast<ptrdiff_t>(keep), got)) fuzz::fail("topK differs from the best rows of the score matrix");
  }
  return 0;
}
