// Huffman-coded JPEG (sequential or progressive) to interleaved 8-bit RGB,
// bit-identical to libjpeg-turbo's default decode (accurate integer IDCT,
// fancy upsampling) as sharp and PIL produce it. For a sequential file the
// calling thread runs the entropy decoding while other threads turn finished
// MCU rows into pixels, band by band; a progressive file is entropy-decoded
// whole, then converted by all threads. Files outside the supported subset
// (arithmetic coding, CMYK, 4:4:0, restart errors...) are declined, not
// approximated.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "../resample_rgb.h"

namespace crossmodal::jpeg {

struct RgbImage {
  std::unique_ptr<uint8_t[]> data;
  int width = 0, height = 0;
};

// The pixels as stored (no EXIF orientation applied). nullptr on success; otherwise why the
// file was declined (and `out` is untouched). Images over `max_pixels` are declined.
const char* decode_rgb(const uint8_t* bytes, size_t size, size_t max_pixels, unsigned threads, RgbImage& out);

// Pillow's resize of the upright image (see resample_rgb.h), computed while decoding: each row goes
// through the horizontal pass as soon as it is converted, so the full-size image never exists.
struct ResizePlan {
  int width, height;               // the image size the tables were made for; others are declined
  const ResampleAxis* horizontal;  // nullptr: width unchanged
  const ResampleAxis* vertical;    // nullptr: height unchanged
  RgbRegion region;                // of the resized image, written to `out` (width * height * 3 bytes)
};

// As decode_rgb, then EXIF `orientation` (1-4: the mirrorings) applied, then resample_rgb(plan)
// into `out`. Orientations 5-8, which turn rows into columns, are declined (decode, then
// resample_rgb_transposed), and so are tables that read no pixel at all ("empty region"). The caller
// has checked the plan's tables against the image size.
const char* decode_resized(const uint8_t* bytes, size_t size, size_t max_pixels, int orientation, unsigned threads,
                           const ResizePlan& plan, uint8_t* out);

}  // namespace crossmodal::jpeg
