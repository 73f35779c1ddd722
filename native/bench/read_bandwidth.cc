#include "read_bandwidth.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace crossmodal {
namespace {

uint64_t xor_words(const uint64_t* words, size_t count) {
  uint64_t acc = 0;
  for (size_t i = 0; i < count; ++i) acc ^= words[i];
  return acc;
}

}  // namespace

uint64_t sequential_read(const void* data, size_t bytes, unsigned threads) {
  const size_t words = bytes / sizeof(uint64_t);
  const auto* first = static_cast<const uint64_t*>(data);  // the caller guarantees 8-byte alignment
  if (threads <= 1) return xor_words(first, words);
  std::vector<uint64_t> partial(threads, 0);
  std::vector<std::thread> readers;
  const size_t step = (words + threads - 1) / threads;
  for (unsigned t = 0; t < threads; ++t) {
    const size_t begin = std::min(words, t * step);
    const size_t end = std::min(words, begin + step);
    readers.emplace_back([&, t, begin, end] { partial[t] = xor_words(first + begin, end - begin); });
  }
  uint64_t acc = 0;
  for (unsigned t = 0; t < threads; ++t) {
    readers[t].join();
    acc ^= partial[t];
  }
  return acc;
}

}  // namespace crossmodal
