// Huffman decoding primitives shared by the baseline and the progressive
// decoder: libjpeg's decoding tables (jdhuff.c) with a lookahead, and an
// MSB-first bit reader over entropy-coded data.
#pragma once
#include <cstdint>
#include <cstring>

#include "frame.h"

namespace crossmodal::jpeg {

inline constexpr int kFastBits = 9;

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
  // libjpeg's process_restart: the real bits left are the byte padding, then RST`next` follows.
  const char* read_restart_marker(int& next) {
    if (!at_byte_padding()) return "extraneous data before a restart marker";
    if (p + 1 >= end || p[0] != 0xFF || p[1] != 0xD0 + next) return "missing restart marker";
    restart(p + 2);
    next = (next + 1) & 7;
    return nullptr;
  }
  void restart(const uint8_t* at) {
    p = at;
    buf = 0;
    bits = padded = 0;
    at_marker = false;
  }
};

// A magnitude category's bits to the signed value (libjpeg's HUFF_EXTEND).
inline int extend(int v, int s) { return v < (1 << (s - 1)) ? v + 1 - (1 << s) : v; }

// One symbol; -1 for a code no table entry has (libjpeg's jpeg_huff_decode, with the lookahead
// first). The reader must hold at least 16 bits.
inline int decode_symbol(const HuffmanTable& t, BitReader& r) {
  const uint16_t e = t.fast[r.peek(kFastBits)];
  if (e) {
    r.skip(e >> 8);
    return e & 0xFF;
  }
  int l = kFastBits + 1;
  int code = static_cast<int>(r.peek(l));
  while (l <= 16 && code > t.maxcode[l]) code = static_cast<int>(r.peek(++l));
  if (l > 16) return -1;
  r.skip(l);
  return t.symbols[(code + t.valoffset[l]) & 0xFF];
}


}  // namespace crossmodal::jpeg
