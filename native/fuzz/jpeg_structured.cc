// Fuzz target `jpeg-structured`: the input chooses a JPEG's structure (size, components, sampling,
// quantisation tables, restart interval, sequential or progressive with a scan script) and its DCT
// coefficients, and jpeg_writer.h writes a valid file around them; sometimes the file is then
// damaged (a bit flipped, cut short, a byte dropped or added), deep in its entropy-coded data where
// random mutation of whole files rarely gets. Each file goes through the same checks as the `jpeg`
// target, and one more: a file valid by construction, inside everything the decoder supports, must
// decode (a decline there is a false refusal, reported as a finding).
//
// FUZZ_JPEG_DUMP=<path> writes the file made from each input there (run.ts uses it to store a
// finding as a plain .jpg regression).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>

#include "image/jpeg/decoder.h"
#include "jpeg_check.h"
#include "jpeg_writer.h"

namespace {

using fuzz::jpeg_writer::Image;
using fuzz::jpeg_writer::Scan;

fuzz::PrintCountersAtExit print_counters;
fuzz::Counter valid{"valid_by_construction"}, damaged{"damaged"};

// Choices are written so that an exhausted input (which reads as zeros) makes a valid file of a
// supported kind: most of the fuzzer's inputs are short.

// Reads the coefficient program: the bytes of the input not used for the structure.
class Program {
 public:
  explicit Program(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  bool empty() const { return at_ >= bytes_.size(); }
  int next() { return empty() ? 0 : bytes_[at_++]; }

 private:
  const std::vector<uint8_t>& bytes_;
  size_t at_ = 0;
};

// Sampling factors: the layouts the decoder supports first, then ones it must decline.
struct Sampling {
  int h[3], v[3];
};
constexpr Sampling kSamplings[] = {
    {{1, 1, 1}, {1, 1, 1}}, {{2, 1, 1}, {2, 1, 1}}, {{2, 1, 1}, {1, 1, 1}}, {{2, 2, 2}, {1, 1, 1}},
    {{4, 2, 2}, {1, 1, 1}}, {{4, 2, 2}, {2, 1, 1}}, {{2, 1, 1}, {4, 2, 2}}, {{1, 1, 1}, {2, 1, 1}},
    {{3, 1, 1}, {1, 1, 1}}, {{4, 1, 1}, {1, 1, 1}}, {{1, 2, 2}, {1, 1, 1}}, {{2, 2, 2}, {2, 2, 2}}};
constexpr int kSupportedSamplings = 5;  // then: over 10 blocks per MCU (libjpeg's limit), 4:4:0, ratios of 3 or 4

// libjpeg's jpeg_simple_progression.
std::vector<Scan> simple_progression(int ncomp) {
  if (ncomp == 1)
    return {{1, {0}, 0, 0, 0, 1}, {1, {0}, 1, 5, 0, 2}, {1, {0}, 6, 63, 0, 2},
            {1, {0}, 1, 63, 2, 1}, {1, {0}, 0, 0, 1, 0}, {1, {0}, 1, 63, 1, 0}};
  return {{3, {0, 1, 2}, 0, 0, 0, 1}, {1, {0}, 1, 5, 0, 2},  {1, {2}, 1, 63, 0, 1}, {1, {1}, 1, 63, 0, 1},
          {1, {0}, 6, 63, 0, 2},       {1, {0}, 1, 63, 2, 1}, {3, {0, 1, 2}, 0, 0, 1, 0}, {1, {2}, 1, 63, 1, 0},
          {1, {1}, 1, 63, 1, 0},       {1, {0}, 1, 63, 1, 0}};
}

// A valid script of the input's choosing: DC (interleaved or per component) and AC bands, each sent
// at some successive-approximation level and refined down to 0, or left unfinished.
std::vector<Scan> chosen_progression(FuzzedDataProvider& in, int ncomp) {
  std::vector<Scan> firsts, refinements;
  // Successive approximation mostly as encoders use it (0-3), sometimes as deep as the format allows.
  const auto al_choice = [&] { return in.ConsumeIntegralInRange(0, 7) == 7 ? in.ConsumeIntegralInRange(4, 13) : in.ConsumeIntegralInRange(0, 3); };
  const int dc_al = al_choice();
  if (ncomp > 1 && in.ConsumeBool()) {
    firsts.push_back({ncomp, {0, 1, 2}, 0, 0, 0, dc_al});
    for (int al = dc_al; al > 0; --al) refinements.push_back({ncomp, {0, 1, 2}, 0, 0, al, al - 1});
  } else {
    for (int c = 0; c < ncomp; ++c) {
      firsts.push_back({1, {c}, 0, 0, 0, dc_al});
      for (int al = dc_al; al > 0; --al) refinements.push_back({1, {c}, 0, 0, al, al - 1});
    }
  }
  for (int c = 0; c < ncomp; ++c) {
    for (int ss = 1; ss <= 63;) {
      const int se = in.ConsumeBool() ? 63 : std::min(63, ss + in.ConsumeIntegralInRange(0, 20));
      const int al = al_choice(), stop = in.ConsumeIntegralInRange(0, 7) == 7 ? 1 : 0;
      firsts.push_back({1, {c}, ss, se, 0, al});
      for (int a = al; a > stop; --a) refinements.push_back({1, {c}, ss, se, a, a - 1});
      ss = se + 1;
    }
  }
  // Refinements in decreasing bit order keep the progression valid whatever the interleaving.
  std::stable_sort(refinements.begin(), refinements.end(), [](const Scan& a, const Scan& b) { return a.ah > b.ah; });
  firsts.insert(firsts.end(), refinements.begin(), refinements.end());
  return firsts;
}

// Any scans at all: the progression checks' business.
std::vector<Scan> random_progression(FuzzedDataProvider& in, int ncomp) {
  std::vector<Scan> scans(in.ConsumeIntegralInRange(1, 12));
  for (Scan& s : scans) {
    s.ncomp = in.ConsumeIntegralInRange(1, ncomp);
    for (int i = 0; i < s.ncomp; ++i) s.comp[i] = (i + in.ConsumeIntegralInRange(0, 2)) % ncomp;
    if (s.ncomp == 2 && s.comp[0] == s.comp[1]) s.ncomp = 1;
    if (s.ncomp == 3) s.comp[0] = 0, s.comp[1] = 1, s.comp[2] = 2;
    s.ss = in.ConsumeIntegralInRange(0, 63);
    s.se = in.ConsumeIntegralInRange(0, 63);
    s.ah = in.ConsumeIntegralInRange(0, 14);
    s.al = in.ConsumeIntegralInRange(0, 14);
  }
  return scans;
}

// What the decoder will make of each coefficient's last refinement: the decoder's own rule
// (progressive.cc), for knowing whether a file is one it must decode.
bool progression_complete(const Image& img) {
  int bits[3][64];
  for (auto& c : bits)
    for (int& b : c) b = -1;
  for (const Scan& s : img.scans)
    for (int i = 0; i < s.ncomp; ++i)
      for (int k = s.ss; k <= s.se; ++k) bits[s.comp[i]][k] = s.al;
  for (int c = 0; c < img.ncomp; ++c)
    for (int k = 0; k < 10; ++k)
      if (bits[c][k] != 0) return false;
  return true;
}

void fill_quant(FuzzedDataProvider& in, fuzz::Rng& rng, Image& img, int t) {
  uint16_t* q = img.quant[t];
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0: std::fill(q, q + 64, in.ConsumeIntegralInRange<uint16_t>(1, 16)); break;
    case 1: {
      // libjpeg's luminance table at a quality (jcparam.c).
      static const uint16_t luminance[64] = {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
                                             14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
                                             18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
                                             49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
      const int quality = in.ConsumeIntegralInRange(1, 100);
      const int scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
      for (int k = 0; k < 64; ++k) q[k] = static_cast<uint16_t>(std::clamp((luminance[k] * scale + 50) / 100, 1, 255));
      break;
    }
    case 2: for (int k = 0; k < 64; ++k) q[k] = static_cast<uint16_t>(rng.range(0, 255)); break;
    case 3:  // 16-bit steps for the AC coefficients, a small one for DC (whose range check is tightest)
      for (int k = 0; k < 64; ++k) q[k] = static_cast<uint16_t>(k == 0 ? rng.range(1, 255) : rng.range(1, 65535));
      break;
    default: std::fill(q, q + 64, 1); break;
  }
  img.quant16[t] = *std::max_element(q, q + 64) > 255 || in.ConsumeIntegralInRange(0, 7) == 0;
}

// The largest magnitude of each component's coefficient k (zigzag order): what the first scan that
// codes it can carry, 10 bits of AC (1023 of DC) above that scan's successive-approximation shift.
struct Limits {
  int of[3][64];
};

Limits coefficient_limits(const Image& img) {
  Limits limits;
  for (auto& component : limits.of)
    for (int& limit : component) limit = 1023;
  if (!img.progressive) return limits;
  bool coded[3][64] = {};
  for (const Scan& s : img.scans)
    for (int i = 0; i < s.ncomp; ++i)
      for (int k = s.ss; k <= std::min(s.se, 63); ++k)
        if (s.ah == 0 && !coded[s.comp[i]][k]) {
          coded[s.comp[i]][k] = true;
          limits.of[s.comp[i]][k] = 1023 << std::min(s.al, 13);
        }
  return limits;
}

// Coefficients from the program: per block, a DC step and a few non-zero AC coefficients, some of
// them scaled up as far as the scan script lets them go.
void fill_coefficients(Program& program, const Limits& limits, Image& img) {
  for (int c = 0; c < img.ncomp; ++c) {
    const int* limit = limits.of[c];
    int dc = 0;
    const size_t blocks = img.coef[c].size() / 64;
    for (size_t b = 0; b < blocks; ++b) {
      int32_t* block = img.coef[c].data() + b * 64;
      if (program.empty()) {
        block[0] = dc;
        continue;
      }
      const int head = program.next();
      if (head & 0x80) {
        const int step = static_cast<int8_t>(program.next()) * (((head >> 4) & 7) + 1) * (1 << (head & 0x40 ? program.next() % 8 : 0));
        dc = std::clamp(dc + step, -limit[0], limit[0]);
      }
      block[0] = dc;
      for (int n = head & 15; n > 0; --n) {
        const int k = 1 + program.next() % 63;
        int value = static_cast<int8_t>(program.next());
        if (value == 0) value = 1;
        if (head & 0x40) value *= 1 << (k % 16);
        block[crossmodal::jpeg::kNatural[k]] = std::clamp(value, -limit[k], limit[k]);
      }
    }
  }
}

// Whether any coefficient would leave the decoder's 16-bit range once dequantised (which it declines).
bool within_range(const Image& img) {
  int max_al = 0;
  for (const Scan& s : img.scans) max_al = std::max(max_al, s.al);
  const int margin = img.progressive ? 2 << max_al : 0;
  for (int c = 0; c < img.ncomp; ++c) {
    const uint16_t* q = img.quant[img.quant_table[c]];
    for (size_t i = 0; i < img.coef[c].size(); ++i) {
      const int v = img.coef[c][i];
      if (static_cast<long>(std::abs(v) + margin) * q[i % 64] > 32767) return false;
    }
  }
  return true;
}

void damage(FuzzedDataProvider& in, std::vector<uint8_t>& file) {
  const size_t at = in.ConsumeIntegralInRange<size_t>(2, file.size() - 1);
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: file[at] ^= static_cast<uint8_t>(1 << in.ConsumeIntegralInRange(0, 7)); break;
    case 1: file.resize(at); break;
    case 2: file.erase(file.begin() + static_cast<ptrdiff_t>(at)); break;
    default: file.insert(file.begin() + static_cast<ptrdiff_t>(at), in.ConsumeIntegral<uint8_t>()); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint64_t seed = in.ConsumeIntegral<uint64_t>();
  fuzz::Rng rng(seed);
  Image img;
  const bool small = in.ConsumeIntegralInRange(0, 15) == 15;
  img.width = small ? in.ConsumeIntegralInRange(1, 20) : in.ConsumeIntegralInRange(16, in.ConsumeBool() ? 64 : 256);
  img.height = small ? in.ConsumeIntegralInRange(1, 20) : in.ConsumeIntegralInRange(16, in.ConsumeBool() ? 64 : 256);
  img.ncomp = in.ConsumeIntegralInRange(0, 3) == 3 ? 1 : 3;
  const bool supported_sampling = in.ConsumeIntegralInRange(0, 7) != 7;
  const Sampling& sampling =
      kSamplings[supported_sampling ? in.ConsumeIntegralInRange(0, kSupportedSamplings - 1)
                                    : in.ConsumeIntegralInRange<int>(kSupportedSamplings, std::size(kSamplings) - 1)];
  for (int c = 0; c < img.ncomp; ++c) {
    img.h[c] = img.ncomp == 1 ? 1 : sampling.h[c];
    img.v[c] = img.ncomp == 1 ? 1 : sampling.v[c];
    img.quant_table[c] = in.ConsumeIntegralInRange(0, 3);
  }
  for (int t = 0; t < 4; ++t) fill_quant(in, rng, img, t);
  img.shared_chroma_tables = in.ConsumeBool();
  img.restart_interval = in.ConsumeBool() ? 0 : in.ConsumeIntegralInRange(1, in.ConsumeBool() ? 4 : 300);
  img.progressive = in.ConsumeBool();
  int script = 0;
  if (!img.progressive) {
    img.scans = {img.ncomp == 1 ? Scan{1, {0}, 0, 63, 0, 0} : Scan{3, {0, 1, 2}, 0, 63, 0, 0}};
  } else {
    script = in.ConsumeIntegralInRange(0, 3);
    if (script == 0) img.scans = simple_progression(img.ncomp);
    else if (script == 1) img.scans = {img.ncomp == 1 ? Scan{1, {0}, 0, 0, 0, 0} : Scan{3, {0, 1, 2}, 0, 0, 0, 0}};
    else if (script == 2) img.scans = chosen_progression(in, img.ncomp);
    else img.scans = random_progression(in, img.ncomp);
    if (script == 1)
      for (int c = 0; c < img.ncomp; ++c) img.scans.push_back({1, {c}, 1, 63, 0, 0});
  }
  const bool damaged_file = in.ConsumeIntegralInRange(0, 3) == 3;
  std::vector<uint8_t> damage_bytes = in.ConsumeBytes<uint8_t>(8);
  const std::vector<uint8_t> coefficients = in.ConsumeRemainingBytes<uint8_t>();
  img.layout();
  Program program(coefficients);
  fill_coefficients(program, coefficient_limits(img), img);

  std::vector<uint8_t> file = fuzz::jpeg_writer::write(img);
  if (damaged_file) {
    FuzzedDataProvider how(damage_bytes.data(), damage_bytes.size());
    damage(how, file);
    ++damaged;
  }
  if (const char* path = std::getenv("FUZZ_JPEG_DUMP")) {
    if (FILE* f = std::fopen(path, "wb")) {
      std::fwrite(file.data(), 1, file.size(), f);
      std::fclose(f);
    }
  }

  const bool must_decode = !damaged_file && img.width >= 16 && img.height >= 16 && (img.ncomp == 1 || supported_sampling) &&
                           (!img.progressive || (script < 3 && progression_complete(img))) && within_range(img);
  if (fuzz::verbose())
    std::fprintf(stderr, "%d x %d, %d component(s), sampling %dx%d %dx%d %dx%d, %s (script %d, %zu scans), restart %d, %s%s\n",
                 img.width, img.height, img.ncomp, img.h[0], img.v[0], img.h[1], img.v[1], img.h[2], img.v[2],
                 img.progressive ? "progressive" : "sequential", script, img.scans.size(), img.restart_interval,
                 damaged_file ? "damaged" : "intact", must_decode ? ", must decode" : "");
  if (must_decode) {
    ++valid;
    crossmodal::jpeg::RgbImage decoded;
    if (const char* why = crossmodal::jpeg::decode_rgb(file.data(), file.size(), fuzz::kMaxPixels, 1, decoded)) {
      std::fprintf(stderr, "declined: %s\n", why);
      fuzz::fail("a valid file of a supported kind was declined");
    }
  }
  fuzz::check_jpeg(file.data(), file.size(), seed);
  return 0;
}
