// The JPEG targets' one check of a file: decode_rgb with a few threads, then the properties every
// decode must have, whatever the bytes:
//  - a file that decodes gives the same pixels with any number of threads;
//  - the fused decode and resize (decode_resized, EXIF orientations 1-4) gives exactly the bytes of
//    decoding, orienting and resizing apart, and declines the files decode_rgb declines;
//  - the rotated resize (resample_rgb_transposed, orientations 5-8) of a decoded image gives the
//    bytes of rotating first;
// and counts how far the inputs got (run.ts prints the fraction that decoded fully).
#pragma once
#include <algorithm>
#include <memory>

#include "dispatch.h"
#include "harness.h"
#include "image/jpeg/decoder.h"
#include "image/jpeg/frame.h"

namespace fuzz {

// Large enough for every sampling and restart layout, small enough that a header claiming a
// large image costs milliseconds, not seconds.
constexpr size_t kMaxPixels = size_t{1} << 20;

struct JpegCounters {
  Counter inputs{"inputs"};
  Counter parsed{"headers_parsed"};  // reached entropy decoding
  Counter decoded{"decoded_fully"};
  Counter fused{"fused_resizes_compared"};
  Counter transposed{"rotated_resizes_compared"};
  Counter idct_disagree{"idct_kernels_disagreed"};  // scalar and AVX2 IDCT gave different pixels
};

inline JpegCounters& jpeg_counters() {
  static JpegCounters counters;
  return counters;
}

// A resize of an upright width x height image, as the embedder asks for one: each side resized (or
// kept, without tables) and a region of the result.
struct ResizeCase {
  std::unique_ptr<Tables> horizontal, vertical;
  crossmodal::ResampleAxis horizontal_axis{}, vertical_axis{};
  crossmodal::RgbRegion region{};
  int out_width = 0, out_height = 0;
  const crossmodal::ResampleAxis* h() const { return horizontal ? &horizontal_axis : nullptr; }
  const crossmodal::ResampleAxis* v() const { return vertical ? &vertical_axis : nullptr; }
};

inline ResizeCase make_resize(Rng& rng, int width, int height) {
  ResizeCase c;
  auto side = [&](int in, std::unique_ptr<Tables>& tables) {
    if (rng.chance(20)) return in;
    const int out = static_cast<int>(rng.range(1, std::min(2 * in, 300)));
    const size_t source = static_cast<size_t>(in), outputs = static_cast<size_t>(out);
    tables = std::make_unique<Tables>(pillow_like_tables(rng, source, outputs));
    // Sometimes windows in any order, as JavaScript may pass them, if the binding's check admits them.
    if (rng.chance(25)) {
      auto hostile = std::make_unique<Tables>(hostile_tables(rng, source, outputs, 1 << 21));
      if (!crossmodal::check_axis(hostile->view(), source, 0, outputs)) tables = std::move(hostile);
    }
    return out;
  };
  c.out_width = side(width, c.horizontal);
  c.out_height = side(height, c.vertical);
  if (c.horizontal) c.horizontal_axis = c.horizontal->view().axis;
  if (c.vertical) c.vertical_axis = c.vertical->view().axis;
  c.region.left = static_cast<size_t>(rng.range(0, c.out_width - 1));
  c.region.top = static_cast<size_t>(rng.range(0, c.out_height - 1));
  c.region.width = static_cast<size_t>(rng.range(1, c.out_width - static_cast<int64_t>(c.region.left)));
  c.region.height = static_cast<size_t>(rng.range(1, c.out_height - static_cast<int64_t>(c.region.top)));
  return c;
}

// Whether the resize's source range (resample_source_range, as decode_resized computes it) is empty.
inline bool reads_no_pixel(const ResizeCase& c) {
  size_t first = 0, end = 1;
  if (c.h()) crossmodal::resample_source_range(*c.h(), c.region.left, c.region.width, first, end);
  if (end <= first) return true;
  if (c.v()) crossmodal::resample_source_range(*c.v(), c.region.top, c.region.height, first, end);
  return end <= first;
}

inline bool same_image(const crossmodal::jpeg::RgbImage& a, const crossmodal::jpeg::RgbImage& b) {
  return a.width == b.width && a.height == b.height &&
         std::equal(a.data.get(), a.data.get() + static_cast<size_t>(a.width) * a.height * 3, b.data.get());
}

inline void check_jpeg(const uint8_t* bytes, size_t size, uint64_t seed) {
  using namespace crossmodal;
  JpegCounters& count = jpeg_counters();
  ++count.inputs;
  Rng rng(seed);
  const unsigned threads = static_cast<unsigned>(rng.range(1, 4));
  jpeg::Frame frame;
  const bool parsed = jpeg::parse_frame(bytes, size, frame) == nullptr;
  if (parsed) ++count.parsed;

  jpeg::RgbImage image;
  const char* declined = jpeg::decode_rgb(bytes, size, kMaxPixels, threads, image);
  const int orientation = static_cast<int>(rng.range(1, 8));
  if (declined) {
    if (!parsed || orientation >= 5) return;
    // The fused path reads the same bytes: it must decline too.
    ResizeCase c = make_resize(rng, frame.width, frame.height);
    // The region is the harness's own output buffer: a kept side of a declined (too large) image
    // would ask for gigabytes. Within kMaxPixels it is what a caller could pass.
    c.region.height = std::min(c.region.height, std::max<size_t>(1, kMaxPixels / c.region.width));
    const ResampleAxis *h = c.h(), *v = c.v();
    const jpeg::ResizePlan plan{frame.width, frame.height, h, v, c.region};
    std::vector<uint8_t> out(c.region.width * c.region.height * 3);
    if (!jpeg::decode_resized(bytes, size, kMaxPixels, orientation, threads, plan, out.data()))
      fail("decode_resized decoded a file that decode_rgb declines");
    return;
  }
  ++count.decoded;

  jpeg::RgbImage again;
  const unsigned other_threads = threads == 1 ? 3 : 1;
  if (jpeg::decode_rgb(bytes, size, kMaxPixels, other_threads, again) || !same_image(image, again))
    fail("decoding with another number of threads gives other pixels");
#if defined(CROSSMODAL_X86)
  // The IDCT follows the scoring kernels' level: decode once more with the scalar IDCT.
  const std::string level = active_kernels().name;
  if (level == "avx2" || level == "avx512") {
    select_simd_level("scalar");
    jpeg::RgbImage scalar;
    const char* why = jpeg::decode_rgb(bytes, size, kMaxPixels, threads, scalar);
    select_simd_level(level);
    if (why) fail("the scalar IDCT's decode declined what the AVX2 one decoded");
    if (!same_image(image, scalar)) ++count.idct_disagree;
  }
#endif

  // Resized, as the embedder asks for it, against the steps apart.
  size_t upright_width, upright_height;
  const std::vector<uint8_t> upright_image = fuzz::upright(image.data.get(), static_cast<size_t>(image.width),
                                                           static_cast<size_t>(image.height), orientation, upright_width, upright_height);
  const ResizeCase c = make_resize(rng, static_cast<int>(upright_width), static_cast<int>(upright_height));
  const ResampleAxis *h = c.h(), *v = c.v();
  std::vector<uint8_t> expected(c.region.width * c.region.height * 3), got(expected.size());
  resample_rgb(upright_image.data(), upright_width, h, v, c.region, threads, expected.data());
  if (orientation <= 4) {
    const jpeg::ResizePlan plan{image.width, image.height, h, v, c.region};
    if (const char* why = jpeg::decode_resized(bytes, size, kMaxPixels, orientation, threads, plan, got.data())) {
      // Tables whose windows are all empty read no pixel: declining them (to libjpeg and the plain
      // resampler) is the fused path's documented choice.
      if (!reads_no_pixel(c)) {
        std::fprintf(stderr, "decode_resized: %s\n", why);
        fail("decode_resized declined a file that decode_rgb decodes");
      }
    } else {
      if (got != expected) fail("decode_resized's bytes differ from decoding, orienting and resizing apart");
      ++count.fused;
    }
  } else {
    resample_rgb_transposed(image.data.get(), static_cast<size_t>(image.width), static_cast<size_t>(image.height), orientation,
                            h, v, c.region, threads, got.data());
    if (got != expected) fail("resample_rgb_transposed's bytes differ from rotating, then resizing");
    ++count.transposed;
  }
}

}  // namespace fuzz
