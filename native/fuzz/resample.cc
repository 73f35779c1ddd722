// Fuzz target `resample`: resampleRgb's argument checks (check_resample, exactly as the binding runs
// them) on hostile sizes, regions, orientations and coefficient tables; whatever they accept goes
// through the resampler (resample_rgb, or resample_rgb_transposed for EXIF orientations 5-8), whose
// bytes must equal a naive Pillow resize of the upright image.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <memory>
#include <tuple>

#include "harness.h"

namespace {

using crossmodal::AxisTables;
using crossmodal::ResampleAxis;
using crossmodal::RgbRegion;

fuzz::PrintCountersAtExit print_counters;
fuzz::Counter inputs{"inputs"}, accepted{"accepted_by_checks"}, resampled{"resampled"}, compared{"compared_with_naive"};

// Buffers the fuzzer would spend seconds filling are left out: what matters is whether the checks
// let a small buffer through with a large size, and that needs no large buffer.
constexpr size_t kMaxBytes = size_t{1} << 22;
constexpr size_t kMaxNaiveWork = size_t{1} << 20;

size_t size_arg(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 9)) {
    case 0: return in.ConsumeIntegral<uint32_t>();  // anywhere in index_arg's [0, 2^32 - 1]
    case 1: return in.ConsumeIntegralInRange<size_t>(0, 2048);
    default: return in.ConsumeIntegralInRange<size_t>(0, 40);
  }
}

uint8_t clip8(int64_t v) {
  v >>= 22;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Pillow's two passes, one pixel at a time, in 64-bit sums: the horizontal pass over every row the
// vertical pass reads, into uint8, then the vertical pass.
std::vector<uint8_t> naive_resize(const uint8_t* src, size_t width, size_t height, const ResampleAxis* h,
                                  const ResampleAxis* v, const RgbRegion& r) {
  std::vector<uint8_t> rows(height * r.width * 3);
  for (size_t y = 0; y < height; ++y)
    for (size_t i = 0; i < r.width; ++i)
      for (int c = 0; c < 3; ++c) {
        const size_t xx = r.left + i;
        uint8_t value;
        if (h) {
          int64_t sum = 1 << 21;
          for (int32_t t = 0; t < h->count[xx]; ++t)
            sum += int64_t{src[(y * width + static_cast<size_t>(h->first[xx] + t)) * 3 + c]} * h->weights[xx * h->taps + t];
          value = clip8(sum);
        } else {
          value = src[(y * width + xx) * 3 + c];
        }
        rows[(y * r.width + i) * 3 + c] = value;
      }
  std::vector<uint8_t> out(r.width * r.height * 3);
  for (size_t j = 0; j < r.height; ++j)
    for (size_t i = 0; i < r.width * 3; ++i) {
      const size_t yy = r.top + j;
      if (v) {
        int64_t sum = 1 << 21;
        for (int32_t t = 0; t < v->count[yy]; ++t)
          sum += int64_t{rows[static_cast<size_t>(v->first[yy] + t) * r.width * 3 + i]} * v->weights[yy * v->taps + t];
        out[j * r.width * 3 + i] = clip8(sum);
      } else {
        out[j * r.width * 3 + i] = rows[yy * r.width * 3 + i];
      }
    }
  return out;
}

std::unique_ptr<fuzz::Tables> axis_for(FuzzedDataProvider& in, fuzz::Rng& rng, size_t source, size_t outputs) {
  const int kind = in.ConsumeIntegralInRange(0, 3);
  if (kind == 0 || outputs > (size_t{1} << 16) || source > (size_t{1} << 24)) return nullptr;
  const size_t length = outputs + (in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(0, 3) : 0);
  if (kind == 1 && source > 0 && length > 0)
    return std::make_unique<fuzz::Tables>(fuzz::pillow_like_tables(rng, source, length));
  const int32_t max_weight = in.ConsumeBool() ? (1 << 22) : 0x7FFFFFFF;
  auto tables = std::make_unique<fuzz::Tables>(fuzz::hostile_tables(rng, source, length, max_weight));
  if (in.ConsumeBool() && !tables->weights.empty()) tables->weights.pop_back();  // shorter than the output
  return tables;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ++inputs;
  fuzz::Rng rng(in.ConsumeIntegral<uint64_t>());
  const size_t width = size_arg(in), height = size_arg(in);
  const int orientation = in.ConsumeBool() ? 1 : in.ConsumeIntegralInRange(0, 9);
  RgbRegion region{size_arg(in), size_arg(in), size_arg(in), size_arg(in)};
  const unsigned threads = in.ConsumeIntegralInRange(1, 4);
  const size_t upright_width = orientation >= 5 ? height : width, upright_height = orientation >= 5 ? width : height;
  const auto horizontal = axis_for(in, rng, upright_width, region.left + region.width);
  const auto vertical = axis_for(in, rng, upright_height, region.top + region.height);
  const AxisTables h_view = horizontal ? horizontal->view() : AxisTables{}, v_view = vertical ? vertical->view() : AxisTables{};
  // The caller's src is as long as the check asks (the check compares with width * height * 3), or one byte off.
  size_t src_length = width * height * 3;
  if (in.ConsumeIntegralInRange(0, 15) == 0) src_length = in.ConsumeBool() ? src_length + 1 : src_length - 1;
  const crossmodal::ResampleArgs args{src_length, width, height, orientation, horizontal ? &h_view : nullptr,
                                      vertical ? &v_view : nullptr, region};
  size_t out_bytes = 0;
  const char* axis_name = nullptr;
  const char* refused = crossmodal::check_resample(args, out_bytes, axis_name);
  if (fuzz::verbose())
    std::fprintf(stderr, "src %zu bytes, %zu x %zu, orientation %d, region (%zu, %zu) %zu x %zu, horizontal %s, vertical %s: %s\n",
                 src_length, width, height, orientation, region.left, region.top, region.width, region.height,
                 horizontal ? "tables" : "none", vertical ? "tables" : "none", refused ? refused : "accepted");
  if (fuzz::verbose())
    for (const auto& [name, t, from, to] : {std::tuple{"horizontal", horizontal.get(), region.left, region.left + region.width},
                                           std::tuple{"vertical", vertical.get(), region.top, region.top + region.height}})
      if (t && !refused)
        for (size_t i = from; i < to; ++i) std::fprintf(stderr, "  %s[%zu]: first %d, count %d\n", name, i, t->first[i], t->count[i]);
  if (refused) return 0;
  ++accepted;
  if (src_length > kMaxBytes || out_bytes > kMaxBytes) return 0;

  std::vector<uint8_t> src(src_length);
  for (uint8_t& b : src) b = static_cast<uint8_t>(rng.next());
  std::vector<uint8_t> out(out_bytes);
  const ResampleAxis* h = horizontal ? &h_view.axis : nullptr;
  const ResampleAxis* v = vertical ? &v_view.axis : nullptr;
  if (orientation == 1)
    crossmodal::resample_rgb(src.data(), width, h, v, region, threads, out.data());
  else
    crossmodal::resample_rgb_transposed(src.data(), width, height, orientation, h, v, region, threads, out.data());
  ++resampled;

  if (out_bytes == 0 || upright_height * region.width * (h ? h->taps + 1 : 1) + out_bytes * (v ? v->taps + 1 : 1) > kMaxNaiveWork) return 0;
  size_t uw, uh;
  const std::vector<uint8_t> image = fuzz::upright(src.data(), width, height, orientation, uw, uh);
  if (naive_resize(image.data(), uw, uh, h, v, region) != out) fuzz::fail("the resampler's bytes differ from a naive Pillow resize");
  ++compared;
  return 0;
}
