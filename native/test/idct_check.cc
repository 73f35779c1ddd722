// The JPEG inverse DCT kernels against the scalar reference, without Node, on
// coefficients as an encoder produces them: forward DCT of random 8x8 pixel
// blocks (noise, flat, hard edges, checkerboards at full contrast), quantised
// with tables from 1 (lossless-ish) to 255. Also checks the flat-block shortcut.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "../src/image/jpeg/idct.h"

using namespace crossmodal::jpeg;

int main() {
  std::mt19937 rng(99);
  int failures = 0, blocks = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    double pixels[64];
    const int kind = trial % 4;
    for (int i = 0; i < 64; ++i) {
      const int x = i % 8, y = i / 8;
      if (kind == 0) pixels[i] = rng() % 256;
      if (kind == 1) pixels[i] = 40 + trial % 200;
      if (kind == 2) pixels[i] = (x + trial % 7 < 5) ? 0 : 255;
      if (kind == 3) pixels[i] = ((x + y) & 1) ? 255 : 0;
    }
    int32_t quant[64];
    const int scale = 1 + static_cast<int>(rng() % 255);
    for (int i = 0; i < 64; ++i) quant[i] = std::max(1, std::min(255, scale + static_cast<int>(rng() % 16) - 8));
    int16_t coef[64];
    bool has_ac = false;
    for (int v = 0; v < 8; ++v)
      for (int u = 0; u < 8; ++u) {
        double sum = 0;
        for (int y = 0; y < 8; ++y)
          for (int x = 0; x < 8; ++x)
            sum += (pixels[y * 8 + x] - 128) * std::cos((2 * x + 1) * u * M_PI / 16) * std::cos((2 * y + 1) * v * M_PI / 16);
        const double cu = u ? 1 : M_SQRT1_2, cv = v ? 1 : M_SQRT1_2;
        const int q = static_cast<int>(std::lround(sum * cu * cv / 4 / quant[v * 8 + u]));
        coef[v * 8 + u] = static_cast<int16_t>(q);
        if (q && (u || v)) has_ac = true;
      }
    uint8_t want[64], got[64];
    idct_islow_scalar(coef, quant, want, 8);
    if (!has_ac) {
      const uint8_t flat = idct_dc_only(coef[0], quant[0]);
      for (int i = 0; i < 64; ++i)
        if (want[i] != flat) {
          std::printf("FAIL dc-only block %d: %d vs %d\n", trial, flat, want[i]);
          ++failures;
          break;
        }
    }
#if defined(CROSSMODAL_X86)
    idct_islow_avx2(coef, quant, got, 8);
    if (std::memcmp(got, want, 64) != 0) {
      std::printf("FAIL avx2 block %d (kind %d)\n", trial, kind);
      ++failures;
    }
#else
    (void)got;
#endif
    ++blocks;
  }
  std::printf("idct %d blocks %s\n", blocks, failures ? "failed" : "ok");
  return failures ? 1 : 0;
}
