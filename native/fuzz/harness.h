// What the fuzz targets share: named counters printed when the run ends (how many inputs got how
// far), a seeded generator, Pillow-shaped and hostile resampling tables, EXIF orientations applied
// the slow obvious way (the oracle of the fused and transposed paths), and the one way a target
// reports a wrong result: abort(), which libFuzzer records as a crash with its input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "image/image_checks.h"
#include "image/resample_rgb.h"

namespace fuzz {

// A count printed at exit as "fuzz-stats <name>=<value>" (run.ts reads these lines).
class Counter {
 public:
  explicit Counter(const char* name) : name_(name), next_(head()) { head() = this; }
  void operator++() { ++value_; }
  uint64_t value() const { return value_; }
  static void print_all() {
    for (Counter* c = head(); c; c = c->next_)
      std::fprintf(stderr, "fuzz-stats %s=%llu\n", c->name_, static_cast<unsigned long long>(c->value_));
  }

 private:
  static Counter*& head() {
    static Counter* first = nullptr;
    return first;
  }
  const char* name_;
  Counter* next_;
  uint64_t value_ = 0;
};

// Prints the counters when libFuzzer exits normally (a crash ends the process without them).
struct PrintCountersAtExit {
  PrintCountersAtExit() { std::atexit(Counter::print_all); }
};

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz: %s\n", what);
  std::abort();
}

// FUZZ_VERBOSE=1 makes the targets describe each input (for turning a finding into a test).
inline bool verbose() {
  static const bool on = std::getenv("FUZZ_VERBOSE") != nullptr;
  return on;
}

inline uint64_t fnv1a(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ULL;
  return h;
}

// splitmix64: parameters derived from a seed, so that every input is reproducible.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }
  bool chance(int percent) { return range(0, 99) < percent; }

 private:
  uint64_t state_;
};

// Resampling tables for `out_size` outputs over `in_size` inputs, owned.
struct Tables {
  std::vector<int32_t> first, count, weights;
  size_t taps = 0;
  crossmodal::AxisTables view() const {
    return {{first.data(), count.data(), weights.data(), taps}, first.size(), count.size(), weights.size()};
  }
};

// Shaped like Pillow's: each output reads a window around its centre, weights summing to 1 << 22
// (some negative, as bicubic's are). Windows move forward with the output, as Pillow's do.
inline Tables pillow_like_tables(Rng& rng, size_t in_size, size_t out_size) {
  Tables t;
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double support = (scale > 1 ? scale : 1.0) * static_cast<double>(rng.range(1, 3));
  t.taps = static_cast<size_t>(2 * support) + 2;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(out_size * t.taps, 0);
  for (size_t i = 0; i < out_size; ++i) {
    const double centre = (static_cast<double>(i) + 0.5) * scale;
    int64_t lo = static_cast<int64_t>(centre - support), hi = static_cast<int64_t>(centre + support + 0.5);
    if (lo < 0) lo = 0;
    if (hi > static_cast<int64_t>(in_size)) hi = static_cast<int64_t>(in_size);
    if (hi - lo > static_cast<int64_t>(t.taps)) hi = lo + static_cast<int64_t>(t.taps);
    t.first[i] = static_cast<int32_t>(lo);
    t.count[i] = static_cast<int32_t>(hi - lo);
    int32_t left = 1 << 22;
    for (int64_t k = 0; k < hi - lo; ++k) {
      const int32_t w = k + 1 == hi - lo ? left : static_cast<int32_t>(rng.range(-(1 << 19), 1 << 22) / (hi - lo));
      t.weights[i * t.taps + static_cast<size_t>(k)] = w;
      left -= w;
    }
  }
  return t;
}

// Any tables at all: windows anywhere in the source, in any order, any weights that fit `max_weight`.
// Whether the addon accepts them is check_axis's decision, not this function's.
inline Tables hostile_tables(Rng& rng, size_t in_size, size_t out_size, int32_t max_weight) {
  Tables t;
  t.taps = static_cast<size_t>(rng.range(0, 6));
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.resize(out_size * t.taps);
  const int64_t in = static_cast<int64_t>(in_size);
  for (size_t i = 0; i < out_size; ++i) {
    t.count[i] = static_cast<int32_t>(rng.range(0, static_cast<int64_t>(t.taps)));
    t.first[i] = static_cast<int32_t>(rng.chance(2) ? rng.range(-2, in + 2) : rng.range(0, in > t.count[i] ? in - t.count[i] : 0));
  }
  for (int32_t& w : t.weights) w = static_cast<int32_t>(rng.range(-max_weight, max_weight));
  return t;
}

// Stored (column, row) of upright pixel (x, y) under EXIF orientation 1-8 (the convention of
// resample_rgb_transposed and decode_resized).
inline void stored_position(int orientation, size_t width, size_t height, size_t x, size_t y, size_t& sx, size_t& sy) {
  if (orientation <= 4) {
    sx = orientation == 2 || orientation == 3 ? width - 1 - x : x;
    sy = orientation == 3 || orientation == 4 ? height - 1 - y : y;
  } else {
    sx = orientation == 7 || orientation == 8 ? width - 1 - y : y;
    sy = orientation == 6 || orientation == 7 ? height - 1 - x : x;
  }
}

// The upright image of `stored` (width x height RGB).
inline std::vector<uint8_t> upright(const uint8_t* stored, size_t width, size_t height, int orientation, size_t& upright_width,
                                    size_t& upright_height) {
  upright_width = orientation >= 5 ? height : width;
  upright_height = orientation >= 5 ? width : height;
  std::vector<uint8_t> out(upright_width * upright_height * 3);
  for (size_t y = 0; y < upright_height; ++y)
    for (size_t x = 0; x < upright_width; ++x) {
      size_t sx, sy;
      stored_position(orientation, width, height, x, y, sx, sy);
      std::memcpy(&out[(y * upright_width + x) * 3], stored + (sy * width + sx) * 3, 3);
    }
  return out;
}

}  // namespace fuzz
