// Fuzz target `chw`: rgbToChw's argument checks (check_chw, exactly as the binding runs them) on
// hostile sizes and placements; whatever they accept is packed by rgb_to_chw, and every float of the
// tensor must be its pixel's (or the padding's) table entry.
#include <fuzzer/FuzzedDataProvider.h>

#include "harness.h"
#include "image/chw.h"

namespace {

fuzz::PrintCountersAtExit print_counters;
fuzz::Counter inputs{"inputs"}, accepted{"accepted_by_checks"}, packed{"packed"};

constexpr size_t kMaxElements = size_t{1} << 22;

size_t size_arg(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 9)) {
    case 0: return in.ConsumeIntegral<uint32_t>();  // anywhere in index_arg's [0, 2^32 - 1]
    case 1: return in.ConsumeIntegralInRange<size_t>(0, 1024);
    default: return in.ConsumeIntegralInRange<size_t>(0, 40);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ++inputs;
  fuzz::Rng rng(in.ConsumeIntegral<uint64_t>());
  crossmodal::ChwArgs a{};
  a.width = size_arg(in);
  a.height = size_arg(in);
  a.out_width = in.ConsumeBool() ? a.width + in.ConsumeIntegralInRange<size_t>(0, 8) : size_arg(in);
  a.out_height = in.ConsumeBool() ? a.height + in.ConsumeIntegralInRange<size_t>(0, 8) : size_arg(in);
  a.left = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(0, 8) : size_arg(in);
  a.top = in.ConsumeBool() ? in.ConsumeIntegralInRange<size_t>(0, 8) : size_arg(in);
  // The caller's arrays: as long as the check asks, or one element off.
  a.rgb_length = a.width * a.height * 3;
  if (in.ConsumeIntegralInRange(0, 15) == 0) a.rgb_length = in.ConsumeBool() ? a.rgb_length + 1 : a.rgb_length - 1;
  a.tables_length = in.ConsumeIntegralInRange(0, 15) == 0 ? in.ConsumeIntegralInRange<size_t>(0, 1024) : 768;
  size_t out_floats = 0;
  const char* refused = crossmodal::check_chw(a, out_floats);
  if (fuzz::verbose())
    std::fprintf(stderr, "rgb %zu bytes, %zu x %zu at (%zu, %zu) of %zu x %zu, tables %zu: %s\n", a.rgb_length, a.width,
                 a.height, a.left, a.top, a.out_width, a.out_height, a.tables_length, refused ? refused : "accepted");
  if (refused) return 0;
  ++accepted;
  if (a.rgb_length > kMaxElements || out_floats > kMaxElements) return 0;

  std::vector<uint8_t> rgb(a.rgb_length);
  for (uint8_t& b : rgb) b = static_cast<uint8_t>(rng.next());
  std::vector<float> tables(a.tables_length);
  for (size_t i = 0; i < tables.size(); ++i) tables[i] = static_cast<float>(i) + 0.5f;  // entry i holds i + 0.5
  std::vector<float> out(out_floats);
  crossmodal::rgb_to_chw(rgb.data(), a.width, a.height, tables.data(), a.out_width, a.out_height, a.left, a.top, out.data());
  ++packed;

  const size_t plane = a.out_width * a.out_height;
  if (plane == 0) return 0;
  for (size_t y = 0; y < a.out_height; ++y)
    for (size_t x = 0; x < a.out_width; ++x) {
      const bool inside = x >= a.left && x < a.left + a.width && y >= a.top && y < a.top + a.height;
      for (size_t c = 0; c < 3; ++c) {
        const uint8_t byte = inside ? rgb[((y - a.top) * a.width + (x - a.left)) * 3 + c] : 0;
        if (out[c * plane + y * a.out_width + x] != tables[c * 256 + byte]) fuzz::fail("a tensor value is not its table entry");
      }
    }
  return 0;
}
