#include "resample_rgb.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "../parallel.h"
#include "clones.h"

namespace crossmodal {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);

inline uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

CROSSMODAL_CLONES
int32_t weighted_sum(const int32_t* values, const int32_t* weights, int32_t n) {
  int32_t sum = kHalf;
  for (int32_t t = 0; t < n; ++t) sum += values[t] * weights[t];
  return sum;
}

// One interleaved row: split the columns the pass reads ([begin, end), from resample_source_range)
// into int32 planes so that every tap sum is a contiguous multiply-add the compiler vectorises
// (integer sums reassociate exactly).
CROSSMODAL_CLONES
void horizontal_row(const uint8_t* row, size_t width, const ResampleAxis& axis, size_t col_start, size_t out_width,
                    size_t begin, size_t end, int32_t* planes, uint8_t* o) {
  int32_t* r = planes;
  int32_t* g = r + width;
  int32_t* b = g + width;
  for (size_t x = begin; x < end; ++x) {
    r[x] = row[3 * x];
    g[x] = row[3 * x + 1];
    b[x] = row[3 * x + 2];
  }
  resample_planes_horizontal(r, g, b, axis, col_start, out_width, o);
}

void horizontal_rows(const uint8_t* src, size_t width, size_t row_begin, size_t row_end, const ResampleAxis& axis,
                     size_t col_start, size_t out_width, uint8_t* out) {
  std::vector<int32_t> planes(3 * width);
  size_t begin = 0, end = 0;
  resample_source_range(axis, col_start, out_width, begin, end);
  for (size_t y = row_begin; y < row_end; ++y)
    horizontal_row(src + y * width * 3, width, axis, col_start, out_width, begin, end, planes.data(),
                   out + (y - row_begin) * out_width * 3);
}

CROSSMODAL_CLONES
// Output rows [row_begin, row_end) of `row_bytes` each; source row r starts at in + r * in_stride
// + col_offset, counted from `input_first_row` (a negative stride walks the image bottom up).
void vertical_rows(const uint8_t* in, ptrdiff_t in_stride, size_t col_offset, size_t row_bytes, size_t input_first_row,
                   const ResampleAxis& axis, size_t row_begin, size_t row_end, uint8_t* out) {
  std::vector<int32_t> acc(row_bytes);
  for (size_t yy = row_begin; yy < row_end; ++yy) {
    std::fill(acc.begin(), acc.end(), kHalf);
    const int32_t* w = axis.weights + yy * axis.taps;
    const size_t first = static_cast<size_t>(axis.first[yy]) - input_first_row;
    for (int32_t t = 0; t < axis.count[yy]; ++t) {
      const uint8_t* p = in + static_cast<ptrdiff_t>(first + t) * in_stride + col_offset;
      const int32_t weight = w[t];
      for (size_t i = 0; i < row_bytes; ++i) acc[i] += p[i] * weight;
    }
    uint8_t* o = out + (yy - row_begin) * row_bytes;
    for (size_t i = 0; i < row_bytes; ++i) o[i] = clip8(acc[i]);
  }
}

}  // namespace

CROSSMODAL_CLONES
void resample_planes_horizontal(const int32_t* r, const int32_t* g, const int32_t* b, const ResampleAxis& axis,
                                size_t col_start, size_t out_width, uint8_t* o) {
  for (size_t xx = col_start; xx < col_start + out_width; ++xx, o += 3) {
    const int32_t first = axis.first[xx];
    const int32_t n = axis.count[xx];
    const int32_t* w = axis.weights + xx * axis.taps;
    o[0] = clip8(weighted_sum(r + first, w, n));
    o[1] = clip8(weighted_sum(g + first, w, n));
    o[2] = clip8(weighted_sum(b + first, w, n));
  }
}

void resample_vertical(const uint8_t* in, size_t row_bytes, size_t input_first_row, const ResampleAxis& axis,
                       size_t row_begin, size_t row_end, unsigned threads, uint8_t* out) {
  split_rows(row_begin, row_end, threads, [&](size_t b, size_t e) {
    vertical_rows(in, row_bytes, 0, row_bytes, input_first_row, axis, b, e, out + (b - row_begin) * row_bytes);
  });
}

void resample_source_range(const ResampleAxis& axis, size_t begin, size_t count, size_t& first, size_t& end) {
  if (count == 0) {
    first = end = 0;
    return;
  }
  // Every output's window, not only the first's start and the last's end: tables from JavaScript
  // need not move forward as Pillow's do, and a window outside the range was read unset (or, in
  // the row buffers of the vertical pass, outside them).
  first = static_cast<size_t>(axis.first[begin]);
  end = first + static_cast<size_t>(axis.count[begin]);
  for (size_t i = begin + 1; i < begin + count; ++i) {
    first = std::min(first, static_cast<size_t>(axis.first[i]));
    end = std::max(end, static_cast<size_t>(axis.first[i]) + static_cast<size_t>(axis.count[i]));
  }
}

void resample_rgb(const uint8_t* src, size_t width, const ResampleAxis* horizontal,
                  const ResampleAxis* vertical, RgbRegion region, unsigned threads, uint8_t* out) {
  // Nothing to write (and `out` may be null): without this, a region 0 pixels wide and 2^32 high
  // spent seconds copying empty rows.
  if (region.width == 0 || region.height == 0) return;
  const size_t row_bytes = region.width * 3;
  if (!horizontal && !vertical) {
    for (size_t y = 0; y < region.height; ++y)
      std::memcpy(out + y * row_bytes, src + ((region.top + y) * width + region.left) * 3, row_bytes);
    return;
  }
  if (!horizontal) {
    split_rows(region.top, region.top + region.height, threads, [&](size_t b, size_t e) {
      vertical_rows(src, width * 3, region.left * 3, row_bytes, 0, *vertical, b, e, out + (b - region.top) * row_bytes);
    });
    return;
  }
  // Source rows that the requested output rows read.
  size_t row_start = region.top, row_end = region.top + region.height;
  if (vertical) resample_source_range(*vertical, region.top, region.height, row_start, row_end);
  uint8_t* rows_out = out;
  std::vector<uint8_t> intermediate;
  if (vertical) {
    intermediate.resize((row_end - row_start) * row_bytes);
    rows_out = intermediate.data();
  }
  split_rows(row_start, row_end, threads, [&](size_t b, size_t e) {
    horizontal_rows(src, width, b, e, *horizontal, region.left, region.width, rows_out + (b - row_start) * row_bytes);
  });
  if (!vertical) return;
  resample_vertical(intermediate.data(), row_bytes, row_start, *vertical, region.top, region.top + region.height, threads, out);
}

void resample_rgb_transposed(const uint8_t* src, size_t width, size_t height, int orientation,
                             const ResampleAxis* horizontal, const ResampleAxis* vertical, RgbRegion region,
                             unsigned threads, uint8_t* out) {
  if (region.width == 0 || region.height == 0) return;
  // Upright (x', y') is stored (column y', row x'), each counted from the far side where marked.
  const bool reverse_x = orientation == 7 || orientation == 8;  // stored column = width - 1 - y'
  const bool reverse_y = orientation == 6 || orientation == 7;  // stored row = height - 1 - x'
  // Upright rows (stored columns) that the vertical pass reads, and the stored columns they are.
  size_t row_start = region.top, row_end = region.top + region.height;
  if (vertical) resample_source_range(*vertical, region.top, region.height, row_start, row_end);
  const size_t rows = row_end - row_start;
  const size_t column_first = reverse_x ? width - row_end : row_start;
  // Pass 1, transposed: T[i] holds, for output column region.left + i of Pillow's horizontal pass,
  // the values of upright rows [row_start, row_end), in stored column order.
  // That is Pillow's vertical pass over the stored rows, with upright x as the row index.
  std::vector<uint8_t> transposed(region.width * rows * 3);
  const ptrdiff_t row_stride = static_cast<ptrdiff_t>(width * 3) * (reverse_y ? -1 : 1);
  const uint8_t* upright_x0 = src + (reverse_y ? (height - 1) * width * 3 : 0);
  split_rows(0, region.width, threads, [&](size_t b, size_t e) {
    uint8_t* t = transposed.data() + b * rows * 3;
    if (horizontal) {
      vertical_rows(upright_x0, row_stride, column_first * 3, rows * 3, 0, *horizontal, region.left + b, region.left + e, t);
      return;
    }
    if (rows == 0) return;  // vertical tables that read no row: nothing to gather (and `t` may be null)
    for (size_t xx = region.left + b; xx < region.left + e; ++xx, t += rows * 3)
      std::memcpy(t, upright_x0 + static_cast<ptrdiff_t>(xx) * row_stride + column_first * 3, rows * 3);
  });
  // Pass 2: Pillow's vertical pass is now along each T row; write output column i of the region.
  // Its taps, counted from the first row T holds.
  std::vector<int32_t> shifted_first(region.top + region.height);
  ResampleAxis along_t{};
  if (vertical) {
    for (size_t yy = region.top; yy < region.top + region.height; ++yy)
      shifted_first[yy] = vertical->first[yy] - static_cast<int32_t>(row_start);
    along_t = {shifted_first.data(), vertical->count, vertical->weights, vertical->taps};
  }
  size_t t_begin = 0, t_end = 0;
  if (vertical) resample_source_range(along_t, region.top, region.height, t_begin, t_end);
  split_rows(0, region.width, threads, [&](size_t b, size_t e) {
    std::vector<uint8_t> line(rows * 3), column(region.height * 3);
    std::vector<int32_t> planes(rows * 3);
    for (size_t i = b; i < e; ++i) {
      const uint8_t* t = transposed.data() + i * rows * 3;
      if (reverse_x) {  // back to upright order
        for (size_t j = 0; j < rows; ++j) std::memcpy(&line[3 * j], t + 3 * (rows - 1 - j), 3);
        t = line.data();
      }
      if (vertical)
        horizontal_row(t, rows, along_t, region.top, region.height, t_begin, t_end, planes.data(), column.data());
      else
        std::memcpy(column.data(), t + (region.top - row_start) * 3, region.height * 3);
      for (size_t y = 0; y < region.height; ++y) std::memcpy(out + (y * region.width + i) * 3, &column[3 * y], 3);
    }
  });
}

}  // namespace crossmodal
