#include "decoder.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "entropy.h"
#include "frame.h"
#include "progressive.h"
#include "idct.h"
#include "upsample_color.h"

namespace crossmodal::jpeg {
namespace {

// Progress of the entropy decoder, shared with the converter threads.
class Progress {
 public:
  void publish(int rows) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      rows_ = rows;
    }
    changed_.notify_all();
  }
  void fail(const char* why) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!why_) why_ = why;
    }
    changed_.notify_all();
  }
  // Waits until `rows` MCU rows are decoded; false if decoding failed instead.
  bool wait_for(int rows) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return rows_ >= rows || why_; });
    return !why_;
  }
 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int rows_ = 0;
  const char* why_ = nullptr;
};

// Where converted rows go: the whole image as stored, or the horizontal pass of a resize.
struct RowTarget {
  uint8_t* image = nullptr;            // RGB image as stored, or nullptr when resizing
  const ResizePlan* resize = nullptr;  // with `rows`, the horizontal pass's output
  uint8_t* rows = nullptr;             // intermediate rows [row_start, row_end) of the upright image
  int row_start = 0, row_end = 0;
  int column_start = 0, column_end = 0;  // the stored columns anything reads
  bool flip_x = false, flip_y = false;   // EXIF orientations 2-4: the resize sees the image mirrored
};

// Turns bands of decoded MCU rows into RGB rows and hands them to the target. One per thread:
// owns its scratch.
class BandConverter {
 public:
  BandConverter(const Frame& f, const CoefficientGrid* grids, int mcu_rows_per_band, RowTarget target)
      : f_(f), grids_(grids), target_(target), idct_(active_idct()) {
    for (int c = 0; c < f.ncomp; ++c) {
      const Component& comp = f.comp[c];
      // A band's rows plus a context block row above and below.
      const size_t rows = (static_cast<size_t>(mcu_rows_per_band) * comp.v + 2) * 8;
      planes_[c].resize(rows * comp.blocks_w * 8);
      full_[c].resize(static_cast<size_t>(f.width) + 16);
    }
    colsum_.resize(static_cast<size_t>(f.width));
    if (target.resize) {
      rgb_planes_.resize(static_cast<size_t>(f.width) * 3);
      if (target.flip_x) stored_planes_.resize(static_cast<size_t>(f.width) * 3);
    }
  }

  // Stored rows [y0, y1), which lie in MCU rows that are decoded, with one more below.
  void convert(int y0, int y1) {
    if (target_.resize) {
      // Only the rows the resize reads.
      const int lo = target_.flip_y ? f_.height - target_.row_end : target_.row_start;
      const int hi = target_.flip_y ? f_.height - target_.row_start : target_.row_end;
      y0 = std::max(y0, lo);
      y1 = std::min(y1, hi);
      if (y0 >= y1) return;
    }
    int first_block_row[3] = {};
    for (int c = 0; c < f_.ncomp; ++c) first_block_row[c] = transform_rows(c, y0, y1);
    const size_t row_bytes = static_cast<size_t>(f_.width) * 3;
    const int x0 = target_.column_start, x1 = target_.column_end;
    for (int y = y0; y < y1; ++y) {
      const uint8_t* rows[3] = {};
      for (int c = 0; c < f_.ncomp; ++c) rows[c] = full_row(c, y, first_block_row[c]);
      if (target_.resize) {
        resize_row(y, rows);
        continue;
      }
      uint8_t* out = target_.image + static_cast<size_t>(y) * row_bytes;
      if (f_.ncomp == 1)
        grey_to_rgb(rows[0], x0, x1, out);
      else
        ycc_to_rgb(rows[0], rows[1], rows[2], x0, x1, out);
    }
  }

 private:
  // Stored row y, as its upright row, through the horizontal pass into the intermediate rows.
  void resize_row(int y, const uint8_t* const* rows) {
    const ResizePlan& plan = *target_.resize;
    const int w = f_.width, x0 = target_.column_start, x1 = target_.column_end;
    int32_t* planes = target_.flip_x ? stored_planes_.data() : rgb_planes_.data();
    if (f_.ncomp == 1)
      grey_to_planes(rows[0], x0, x1, planes, planes + w, planes + 2 * w);
    else
      ycc_to_planes(rows[0], rows[1], rows[2], x0, x1, planes, planes + w, planes + 2 * w);
    int32_t* r = rgb_planes_.data();
    int32_t* g = r + w;
    int32_t* b = g + w;
    if (target_.flip_x) {
      for (int k = 0; k < 3; ++k)
        for (int x = x0; x < x1; ++x) r[k * w + (w - 1 - x)] = planes[k * w + x];
    }
    const int upright_y = target_.flip_y ? f_.height - 1 - y : y;
    uint8_t* out = target_.rows + static_cast<size_t>(upright_y - target_.row_start) * plan.region.width * 3;
    if (plan.horizontal) {
      resample_planes_horizontal(r, g, b, *plan.horizontal, plan.region.left, plan.region.width, out);
    } else {
      for (size_t i = 0; i < plan.region.width; ++i, out += 3) {
        const size_t x = plan.region.left + i;
        out[0] = static_cast<uint8_t>(r[x]);
        out[1] = static_cast<uint8_t>(g[x]);
        out[2] = static_cast<uint8_t>(b[x]);
      }
    }
  }

  int ratio_v(int c) const { return f_.max_v / f_.comp[c].v; }
  int ratio_h(int c) const { return f_.max_h / f_.comp[c].h; }

  // Inverse-transforms the block rows of component c that output rows [y0, y1) read, context
  // included; returns the first block row transformed.
  int transform_rows(int c, int y0, int y1) {
    const Component& comp = f_.comp[c];
    const int rv = ratio_v(c);
    const int lo = std::max(0, y0 / rv - (rv - 1));
    const int hi = std::min(comp.height - 1, (y1 - 1) / rv + (rv - 1));
    const int br_lo = lo / 8, br_hi = hi / 8;
    // The component's columns that the window reads, with the fancy upsampler's neighbours.
    const int rh = ratio_h(c);
    const int first_column = std::max(0, target_.column_start / rh - (rh - 1));
    const int last_column = std::min(comp.width - 1, (target_.column_end - 1) / rh + (rh - 1));
    const size_t stride = static_cast<size_t>(comp.blocks_w) * 8;
    const CoefficientGrid& grid = grids_[c];
    for (int by = br_lo; by <= br_hi; ++by) {
      uint8_t* row = planes_[c].data() + static_cast<size_t>(by - br_lo) * 8 * stride;
      for (int bx = first_column / 8; bx <= last_column / 8; ++bx) {
        const int16_t* block = grid.block(bx, by, comp.blocks_w);
        uint8_t* out = row + bx * 8;
        if (grid.has_ac[static_cast<size_t>(by) * comp.blocks_w + bx]) {
          idct_(block, comp.quant, out, stride);
        } else {
          const uint8_t v = idct_dc_only(block[0], comp.quant[0]);
          for (int r = 0; r < 8; ++r) std::fill_n(out + r * stride, 8, v);
        }
      }
    }
    return br_lo;
  }

  const uint8_t* plane_row(int c, int row, int first_block_row) const {
    const Component& comp = f_.comp[c];
    row = std::clamp(row, 0, comp.height - 1);  // libjpeg replicates the edge rows as context
    return planes_[c].data() + static_cast<size_t>(row - first_block_row * 8) * comp.blocks_w * 8;
  }

  const uint8_t* full_row(int c, int y, int first_block_row) {
    const int rh = ratio_h(c), rv = ratio_v(c);
    if (rh == 1 && rv == 1) return plane_row(c, y, first_block_row);
    uint8_t* out = full_[c].data();
    const int n = f_.comp[c].width;
    const int c0 = target_.column_start / 2, c1 = (target_.column_end - 1) / 2 + 1;
    if (rv == 1) {
      upsample_h2v1(plane_row(c, y, first_block_row), n, c0, c1, out);
    } else {
      const int r = y >> 1;
      upsample_h2v2(plane_row(c, r, first_block_row), plane_row(c, (y & 1) ? r + 1 : r - 1, first_block_row), n, c0,
                    c1, colsum_.data(), out);
    }
    return out;
  }

  const Frame& f_;
  const CoefficientGrid* grids_;
  RowTarget target_;
  IdctKernel idct_;
  std::vector<int32_t> rgb_planes_;     // R, G, B planes of the upright row being resized
  std::vector<int32_t> stored_planes_;  // the same in stored order, when mirrored
  std::vector<uint8_t> planes_[3];
  std::vector<uint8_t> full_[3];
  std::vector<int16_t> colsum_;
};

// Entropy-decodes on the calling thread while `threads - 1` converter threads (and, once the entropy
// decoder is done, the calling thread) convert bands of finished MCU rows into `target`.
// A progressive file is entropy-decoded whole first: its last scan may touch any block.
const char* run_pipeline(Frame& frame, unsigned threads, RowTarget target) {
  std::unique_ptr<EntropyDecoder> sequential;
  std::unique_ptr<ProgressiveDecoder> progressive;
  const CoefficientGrid* grids;
  if (frame.progressive) {
    progressive = std::make_unique<ProgressiveDecoder>(frame);
    if (const char* why = progressive->decode()) return why;
    grids = progressive->grids();
  } else {
    sequential = std::make_unique<EntropyDecoder>(frame);
    if (const char* why = sequential->start()) return why;
    grids = sequential->grids();
  }
  threads = std::max(1u, threads);
  const int bands = std::max(1, std::min(frame.mcu_rows, static_cast<int>(threads) * 6));
  const int per_band = (frame.mcu_rows + bands - 1) / bands;
  const int mcu_height = 8 * frame.max_v;
  Progress progress;
  std::atomic<int> next_band{0};
  std::exception_ptr error;  // the first exception a converter raised (allocation failure)
  std::mutex error_mutex;
  auto convert_bands = [&]() noexcept {
    try {
      BandConverter converter(frame, grids, per_band, target);
      for (;;) {
        const int m0 = next_band.fetch_add(1) * per_band, m1 = std::min(frame.mcu_rows, m0 + per_band);
        if (m0 >= frame.mcu_rows) return;
        // Fancy upsampling reads one chroma row of the next MCU row.
        if (!progress.wait_for(std::min(frame.mcu_rows, m1 + 1))) return;
        converter.convert(m0 * mcu_height, std::min(frame.height, m1 * mcu_height));
      }
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      progress.fail("conversion failed");
    }
  };
  std::vector<std::thread> converters;
  for (unsigned t = 1; t < threads; ++t) converters.emplace_back(convert_bands);
  const char* failure = nullptr;
  if (sequential) {
    for (int row = 0; row < frame.mcu_rows && !failure; ++row) {
      failure = sequential->decode_row();
      if (!failure) progress.publish(row + 1);
    }
    if (!failure) failure = sequential->finish();
  } else {
    progress.publish(frame.mcu_rows);
  }
  if (failure)
    progress.fail(failure);
  else
    convert_bands();
  for (auto& converter : converters) converter.join();
  if (error) std::rethrow_exception(error);
  return failure;
}

const char* parse_checked(const uint8_t* bytes, size_t size, size_t max_pixels, Frame& frame) {
  if (const char* why = parse_frame(bytes, size, frame)) return why;
  if (static_cast<size_t>(frame.width) * frame.height > max_pixels) return "over the pixel limit";
  return nullptr;
}

}  // namespace

const char* decode_rgb(const uint8_t* bytes, size_t size, size_t max_pixels, unsigned threads, RgbImage& out) {
  Frame frame;
  if (const char* why = parse_checked(bytes, size, max_pixels, frame)) return why;
  RgbImage image;
  image.width = frame.width;
  image.height = frame.height;
  image.data.reset(new uint8_t[static_cast<size_t>(frame.width) * frame.height * 3]);
  RowTarget target;
  target.image = image.data.get();
  target.column_end = frame.width;
  if (const char* why = run_pipeline(frame, threads, target)) return why;
  out = std::move(image);
  return nullptr;
}

const char* decode_resized(const uint8_t* bytes, size_t size, size_t max_pixels, int orientation, unsigned threads,
                           const ResizePlan& plan, uint8_t* out) {
  if (orientation >= 5) return "rotated by its EXIF orientation";
  Frame frame;
  if (const char* why = parse_checked(bytes, size, max_pixels, frame)) return why;
  if (frame.width != plan.width || frame.height != plan.height) return "size differs from the probed header";
  const RgbRegion& region = plan.region;
  size_t row_start = region.top, row_end = region.top + region.height;
  if (plan.vertical) resample_source_range(*plan.vertical, region.top, region.height, row_start, row_end);
  size_t column_start = region.left, column_end = region.left + region.width;
  if (plan.horizontal) resample_source_range(*plan.horizontal, region.left, region.width, column_start, column_end);
  if (column_end <= column_start || row_end <= row_start) return "empty region";
  // Without a vertical pass the horizontal pass writes the output itself.
  std::vector<uint8_t> intermediate(plan.vertical ? (row_end - row_start) * region.width * 3 : 0);
  RowTarget target;
  target.resize = &plan;
  target.rows = plan.vertical ? intermediate.data() : out;
  target.row_start = static_cast<int>(row_start);
  target.row_end = static_cast<int>(row_end);
  target.flip_x = orientation == 2 || orientation == 3;
  target.flip_y = orientation == 3 || orientation == 4;
  target.column_start = static_cast<int>(target.flip_x ? frame.width - column_end : column_start);
  target.column_end = static_cast<int>(target.flip_x ? frame.width - column_start : column_end);
  if (const char* why = run_pipeline(frame, threads, target)) return why;
  if (plan.vertical)
    resample_vertical(intermediate.data(), region.width * 3, row_start, *plan.vertical, region.top,
                      region.top + region.height, threads, out);
  return nullptr;
}

}  // namespace crossmodal::jpeg
