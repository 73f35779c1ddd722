// Huffman decoding of a sequential scan into per-component coefficient grids,
// exactly as libjpeg (jdhuff.c) reads them, one MCU row at a time so that the
// caller can transform finished rows on other threads meanwhile. Any stream
// libjpeg would only read with a warning (bad codes, missing or misplaced
// restart markers, data cut short) is declined instead.
#pragma once
#include <memory>

#include "coefficients.h"
#include "frame.h"

namespace crossmodal::jpeg {

class EntropyDecoder {
 public:
  // Allocates the grids of every component (each block is cleared as it is decoded).
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
