#include "entropy.h"

#include <cstring>

namespace crossmodal::jpeg {
namespace {

constexpr uint8_t kNatural[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

constexpr int kFastBits = 9;

// A decoding table as libjpeg's jpeg_make_d_derived_tbl builds it, plus a
// kFastBits lookahead (and, for AC tables, the coefficient itself when its
// code and magnitude bits fit in the lookahead together).
struct HuffmanTable {
  int32_t maxcode[18];
  int32_t valoffset[18];
  uint8_t symbols[256];
  uint16_t fast[1 << kFastBits];   // (length << 8) | symbol, 0 when longer than kFastBits
  int32_t fast_ac[1 << kFastBits]; // (value << 16) | (run << 8) | total bits, 0 when not applicable

  const char* build(const HuffmanSpec& spec, bool ac) {
    int huffsize[257], huffcode[257];
    int p = 0;
    for (int l = 1; l <= 16; ++l)
      for (int i = 0; i < spec.counts[l]; ++i) huffsize[p++] = l;
    huffsize[p] = 0;
    const int numsymbols = p;
    int code = 0, si = huffsize[0];
    p = 0;
    while (huffsize[p]) {
      while (huffsize[p] == si) huffcode[p++] = code++;
      if (code >= (1 << si)) return "bad Huffman table";
      code <<= 1;
      ++si;
    }
    p = 0;
    for (int l = 1; l <= 16; ++l) {
      if (spec.counts[l]) {
        valoffset[l] = p - huffcode[p];
        p += spec.counts[l];
        maxcode[l] = huffcode[p - 1];
      } else {
        maxcode[l] = -1;
      }
    }
    maxcode[17] = 0x7FFFFFFF;  // sentinel
    // libjpeg rejects DC tables with symbols above 15.
    if (!ac)
      for (int i = 0; i < numsymbols; ++i)
        if (spec.symbols[i] > 15) return "bad DC Huffman table";
    std::memcpy(symbols, spec.symbols, sizeof symbols);
    std::memset(fast, 0, sizeof fast);
    std::memset(fast_ac, 0, sizeof fast_ac);
    for (int i = 0; i < numsymbols; ++i) {
      const int len = huffsize[i];
      if (len > kFastBits) continue;
      const int shift = kFastBits - len;
      const int base = huffcode[i] << shift;
      for (int j = 0; j < (1 << shift); ++j) fast[base + j] = static_cast<uint16_t>((len << 8) | symbols[i]);
      if (!ac) continue;
      const int run = symbols[i] >> 4, size = symbols[i] & 15;
      if (size == 0 || size > 10 || len + size > kFastBits) continue;
      for (int j = 0; j < (1 << shift); ++j) {
        int value = (j >> (shift - size)) & ((1 << size) - 1);
        if (value < (1 << (size - 1))) value += 1 - (1 << size);
        fast_ac[base + j] = static_cast<int32_t>(static_cast<uint32_t>(value) << 16) | (run << 8) | (len + size);
      }
    }
    return nullptr;
  }
};

// MSB-first bit reader over entropy-coded data. At a marker it stops reading
// and feeds zero bits, counting them, so that the decoder can tell whether it
// ever consumed a bit that was not in the file.
struct BitReader {
  const uint8_t* p;
  const uint8_t* end;
  uint64_t buf = 0;
  int bits = 0;
  int padded = 0;
  bool at_marker = false;

  void fill() {
    if (bits > 56) return;
    // Fast path: the next eight bytes hold no 0xFF (no stuffing, no marker), so take as many as fit.
    if (!at_marker && end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      const uint64_t inverted = ~word;  // an 0xFF byte becomes a zero byte
      if (((inverted - 0x0101010101010101ULL) & ~inverted & 0x8080808080808080ULL) == 0) {
        const int n = (64 - bits) >> 3;
        word = __builtin_bswap64(word) >> (64 - 8 * n);  // the first n bytes, first byte highest
        buf |= word << (64 - bits - 8 * n);
        p += n;
        bits += 8 * n;
        return;
      }
    }
    while (bits <= 56) {
      uint64_t byte = 0;
      if (!at_marker) {
        if (p < end && *p != 0xFF) {
          byte = *p++;
        } else if (p + 1 < end && p[1] == 0x00) {
          byte = 0xFF;
          p += 2;
        } else {
          at_marker = true;  // p stays on the marker's 0xFF (or the end of the file)
        }
      }
      if (at_marker) padded += 8;
      buf |= byte << (56 - bits);
      bits += 8;
    }
  }
  uint32_t peek(int n) const { return static_cast<uint32_t>(buf >> (64 - n)); }
  void skip(int n) {
    buf <<= n;
    bits -= n;
  }
  int get(int n) {
    const int v = static_cast<int>(peek(n));
    skip(n);
    return v;
  }
  // Every bit consumed so far came from the file.
  bool all_real() const { return bits >= padded; }
  // The real bits left are only the final byte's padding.
  bool at_byte_padding() const { return all_real() && bits - padded < 8; }
  void restart(const uint8_t* at) {
    p = at;
    buf = 0;
    bits = padded = 0;
    at_marker = false;
  }
};

inline int extend(int v, int s) { return v < (1 << (s - 1)) ? v + 1 - (1 << s) : v; }

}  // namespace

struct EntropyDecoder::State {
  HuffmanTable dc[4], ac[4];
  BitReader reader;
  int last_dc[3] = {};
  int row = 0;
  int mcus_to_restart = 0;
  int next_restart = 0;

  // Slow path for codes longer than kFastBits (libjpeg's jpeg_huff_decode).
  int decode_slow(const HuffmanTable& t) {
    int l = kFastBits + 1;
    int code = static_cast<int>(reader.peek(l));
    while (l <= 16 && code > t.maxcode[l]) code = static_cast<int>(reader.peek(++l));
    if (l > 16) return -1;
    reader.skip(l);
    return t.symbols[(code + t.valoffset[l]) & 0xFF];
  }
  int decode(const HuffmanTable& t) {
    const uint16_t e = t.fast[reader.peek(kFastBits)];
    if (e) {
      reader.skip(e >> 8);
      return e & 0xFF;
    }
    return decode_slow(t);
  }
};

EntropyDecoder::EntropyDecoder(const Frame& frame) : frame_(frame), state_(std::make_unique<State>()) {
  // Not zeroed here: every block of the grid belongs to some MCU, and decode_row clears each
  // block just before filling it, while it is in cache, instead of in a serial pass up front.
  for (int c = 0; c < frame.ncomp; ++c) {
    const size_t blocks = static_cast<size_t>(frame.comp[c].blocks_w) * frame.comp[c].blocks_h;
    grids_[c].coef.reset(new int16_t[blocks * 64]);
    grids_[c].has_ac.reset(new uint8_t[blocks]);
  }
}

EntropyDecoder::~EntropyDecoder() = default;

const char* EntropyDecoder::start() {
  State& s = *state_;
  for (int i = 0; i < frame_.ncomp; ++i) {
    const Component& comp = frame_.comp[frame_.scan_order[i]];
    if (const char* why = s.dc[comp.dc_table].build(frame_.dc[comp.dc_table], false)) return why;
    if (const char* why = s.ac[comp.ac_table].build(frame_.ac[comp.ac_table], true)) return why;
  }
  s.reader.restart(frame_.scan);
  s.reader.end = frame_.end;
  s.mcus_to_restart = frame_.restart_interval;
  return nullptr;
}

const char* EntropyDecoder::decode_row() {
  State& s = *state_;
  BitReader& r = s.reader;
  const Frame& f = frame_;
  const int my = s.row++;
  for (int mx = 0; mx < f.mcus_per_row; ++mx) {
    if (f.restart_interval) {
      if (s.mcus_to_restart == 0) {
        // libjpeg's process_restart: drop the byte padding, expect RSTn, reset the predictors.
        if (!r.at_byte_padding()) return "extraneous data before a restart marker";
        if (r.p + 1 >= r.end || r.p[0] != 0xFF || r.p[1] != 0xD0 + s.next_restart) return "missing restart marker";
        r.restart(r.p + 2);
        s.next_restart = (s.next_restart + 1) & 7;
        s.mcus_to_restart = f.restart_interval;
        for (int& dc : s.last_dc) dc = 0;
      }
      --s.mcus_to_restart;
    }
    for (int i = 0; i < f.ncomp; ++i) {
      const int c = f.scan_order[i];
      const Component& comp = f.comp[c];
      const HuffmanTable& dct = s.dc[comp.dc_table];
      const HuffmanTable& act = s.ac[comp.ac_table];
      const int32_t* q = comp.quant;
      for (int by = 0; by < comp.v; ++by) {
        for (int bx = 0; bx < comp.h; ++bx) {
          const int block_x = mx * comp.h + bx, block_y = my * comp.v + by;
          int16_t* block = grids_[c].block(block_x, block_y, comp.blocks_w);
          std::memset(block, 0, 64 * sizeof(int16_t));
          r.fill();
          int t = s.decode(dct);
          if (t < 0 || t > 11) return "bad DC code";
          const int dc = s.last_dc[i] + (t ? extend(r.get(t), t) : 0);
          if (dc < -32768 || dc > 32767 || dc * q[0] < -32768 || dc * q[0] > 32767) return "DC coefficient out of range";
          s.last_dc[i] = dc;
          block[0] = static_cast<int16_t>(dc);
          bool has_ac = false;
          for (int k = 1; k < 64;) {
            if (r.bits < 32) r.fill();
            const int32_t e = act.fast_ac[r.peek(kFastBits)];
            int value;
            if (e) {
              k += (e >> 8) & 15;
              r.skip(e & 0xFF);
              value = e >> 16;
            } else {
              const int rs = s.decode(act);
              if (rs < 0) return "bad AC code";
              const int run = rs >> 4, size = rs & 15;
              if (size == 0) {
                if (run != 15) break;  // end of block
                k += 16;               // sixteen zeros
                continue;
              }
              if (size > 10) return "AC coefficient too large";
              k += run;
              value = extend(r.get(size), size);
            }
            if (k > 63) return "AC coefficients past the end of the block";
            const int pos = kNatural[k++];
            // libjpeg-turbo's SIMD IDCT dequantises in 16 bits; decline what would wrap there.
            const int dequantised = value * q[pos];
            if (dequantised < -32768 || dequantised > 32767) return "AC coefficient out of range";
            block[pos] = static_cast<int16_t>(value);
            has_ac = true;
          }
          grids_[c].has_ac[static_cast<size_t>(block_y) * comp.blocks_w + block_x] = has_ac;
          if (!r.all_real()) return "entropy-coded data ends early";
        }
      }
    }
  }
  return nullptr;
}

const char* EntropyDecoder::finish() {
  const BitReader& r = state_->reader;
  if (!r.at_byte_padding()) return "extraneous data after the last MCU";
  const uint8_t* p = r.p;
  while (p < r.end && *p == 0xFF) ++p;
  if (p >= r.end || p == r.p) return "no EOI marker";
  if (*p != 0xD9) return "more than one scan";
  return nullptr;
}

}  // namespace crossmodal::jpeg
