// Dequantisation-ready DCT coefficients of one component, as the entropy
// decoders leave them for the inverse DCT.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace crossmodal::jpeg {

struct CoefficientGrid {
  std::unique_ptr<int16_t[]> coef;    // blocks_w * blocks_h blocks of 64, natural order
  std::unique_ptr<uint8_t[]> has_ac;  // per block: any non-zero AC coefficient
  int16_t* block(int bx, int by, int blocks_w) const { return coef.get() + (static_cast<size_t>(by) * blocks_w + bx) * 64; }
};

}  // namespace crossmodal::jpeg
