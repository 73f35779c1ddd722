// A JPEG's frame and scan headers, for baseline/extended sequential files (one
// interleaved scan) and progressive ones (a sequence of scans), all Huffman-
// coded and 8-bit. Only the subset the fast decoder handles is accepted;
// everything else is declined with a reason, and the caller decodes it with
// libjpeg (sharp) instead.
#pragma once
#include <cstddef>
#include <cstdint>

namespace crossmodal::jpeg {

// Zigzag (coding) order to natural (row-major) order within an 8x8 block.
inline constexpr uint8_t kNatural[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

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

// The header of the scan being decoded.
struct ScanHeader {
  int ncomp = 0;
  int comp[3] = {};       // frame component index of each scan component, in scan order
  int ss = 0, se = 63;    // spectral selection
  int ah = 0, al = 0;     // successive approximation
  const uint8_t* data = nullptr;  // first byte of its entropy-coded data
};

struct Frame {
  bool progressive = false;
  int width = 0, height = 0;
  int ncomp = 0;
  Component comp[3];
  int max_h = 1, max_v = 1;
  int mcus_per_row = 0, mcu_rows = 0;
  int restart_interval = 0;
  HuffmanSpec dc[4], ac[4];
  ScanHeader scan;
  const uint8_t* end = nullptr;  // end of the file
};

// Parses up to the first scan. Returns nullptr on success, or why the fast decoder declines the file.
const char* parse_frame(const uint8_t* data, size_t size, Frame& frame);

// After a scan's entropy-coded data, at `p`: reads the markers up to the next scan (Huffman
// tables, restart interval, APPn, COM) and sets frame.scan, or reaches EOI and sets `eoi`.
const char* next_scan(const uint8_t* p, Frame& frame, bool& eoi);

}  // namespace crossmodal::jpeg
