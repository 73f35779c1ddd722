// Huffman decoding of a baseline scan into per-component coefficient grids,
// exactly as libjpeg (jdhuff.c) reads them, one MCU row at a time so that the
// caller can transform finished rows on other threads meanwhile. Any stream
// libjpeg would only read with a warning (bad codes, missing or misplaced
// restart markers, data cut short) is declined instead.
#pragma once
#include <cstdint>
#include <memory>

#include "frame.h"

namespace crossmodal::jpeg {

struct CoefficientGrid {
  std::unique_ptr<int16_t[]> coef;   // blocks_w * blocks_h blocks of 64, natural order
  std::unique_ptr<uint8_t[]> has_ac; // per block: any non-zero AC coefficient
  int16_t* block(int bx, int by, int blocks_w) const { return coef.get() + (static_cast<size_t>(by) * blocks_w + bx) * 64; }
};

class EntropyDecoder {
 public:
  // Allocates zeroed grids for every component of `frame`.
  explicit EntropyDecoder(const Frame& frame);
  ~EntropyDecoder();
  // nullptr if the tables are valid, else why not.
  const char* start();
  // Decodes the next MCU row; nullptr on success, else why the stream is declined.
  const char* decode_row();
  // After the last row: checks that the scan ends cleanly at EOI.
  const char* finish();
  const CoefficientGrid* grids() const { return grids_; }

 private:
  struct State;
  const Frame& frame_;
  CoefficientGrid grids_[3];
  std::unique_ptr<State> state_;
};

}  // namespace crossmodal::jpeg
