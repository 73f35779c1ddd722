// A baseline JPEG's frame and scan headers, parsed up to the entropy-coded
// data of its single scan. Only the subset the fast decoder handles is
// accepted; everything else is declined with a reason, and the caller decodes
// it with libjpeg (sharp) instead.
#pragma once
#include <cstddef>
#include <cstdint>

namespace crossmodal::jpeg {

struct HuffmanSpec {
  bool defined = false;
  uint8_t counts[17] = {};  // counts[l]: codes of length l (1..16)
  uint8_t symbols[256] = {};
};

struct Component {
  int id = 0;
  int h = 1, v = 1;             // sampling factors
  int quant_table = 0;
  int dc_table = 0, ac_table = 0;
  int width = 0, height = 0;    // libjpeg's downsampled_width / downsampled_height
  int blocks_w = 0, blocks_h = 0;  // coefficient grid, padded to whole MCUs
  int32_t quant[64] = {};       // natural order, latched at the scan
};

struct Frame {
  int width = 0, height = 0;
  int ncomp = 0;
  Component comp[3];
  int scan_order[3] = {0, 1, 2};  // component index of each scan component
  int max_h = 1, max_v = 1;
  int mcus_per_row = 0, mcu_rows = 0;
  int restart_interval = 0;
  HuffmanSpec dc[4], ac[4];
  const uint8_t* scan = nullptr;  // first byte of entropy-coded data
  const uint8_t* end = nullptr;   // end of the file
};

// Returns nullptr on success, or why the fast decoder declines the file.
const char* parse_frame(const uint8_t* data, size_t size, Frame& frame);

}  // namespace crossmodal::jpeg
