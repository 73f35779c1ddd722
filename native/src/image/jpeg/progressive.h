// Progressive JPEG: every scan (DC first and refinement, AC first and
// refinement with end-of-band runs) decoded into the coefficient grids exactly
// as libjpeg's jdphuff.c does, before any pixel exists. Files libjpeg would
// read with a warning (a bad progression, bad codes, restart errors) or decode
// with its block smoothing (refinement left incomplete) are declined.
#pragma once
#include <memory>

#include "coefficients.h"
#include "frame.h"

namespace crossmodal::jpeg {

class ProgressiveDecoder {
 public:
  // Allocates zeroed grids for every component of `frame`.
  explicit ProgressiveDecoder(Frame& frame);
  ~ProgressiveDecoder();
  // Decodes the first scan (parsed by parse_frame) and every scan after it, up to EOI.
  // nullptr on success, else why the file is declined.
  const char* decode();
  const CoefficientGrid* grids() const { return grids_; }

 private:
  struct State;
  const char* decode_scan();
  Frame& frame_;
  CoefficientGrid grids_[3];
  std::unique_ptr<State> state_;
};

}  // namespace crossmodal::jpeg
