// Splitting work over threads, the one way the addon does it.
#pragma once
#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace crossmodal {

// Runs fn(begin, end, part) over `parts` contiguous slices of [0, count), the
// last on the calling thread; rethrows the first failure after all joined.
template <class Fn>
void parallel_ranges(size_t count, unsigned parts, Fn&& fn) {
  if (parts <= 1 || count <= 1) {
    fn(size_t{0}, count, 0u);
    return;
  }
  std::vector<std::thread> helpers;
  std::vector<std::exception_ptr> errors(parts);
  const size_t step = (count + parts - 1) / parts;
  auto run = [&](unsigned part) {
    const size_t begin = std::min(count, part * step);
    const size_t end = std::min(count, begin + step);
    try {
      fn(begin, end, part);
    } catch (...) {
      errors[part] = std::current_exception();
    }
  };
  for (unsigned p = 0; p + 1 < parts; ++p) helpers.emplace_back(run, p);
  run(parts - 1);
  for (auto& helper : helpers) helper.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// fn(b, e) over [begin, end) split into at most `threads` non-empty ranges.
template <class Fn>
void split_rows(size_t begin, size_t end, unsigned threads, Fn&& fn) {
  const size_t rows = end - begin;
  const unsigned parts = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(threads, rows)));
  parallel_ranges(rows, parts, [&](size_t b, size_t e, unsigned) {
    if (b < e || parts == 1) fn(begin + b, begin + e);
  });
}

}  // namespace crossmodal
