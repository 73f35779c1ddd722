// A small JPEG encoder for the structure-aware fuzz target: it writes the frame, tables and scans
// around DCT coefficients that the fuzzer chose, Huffman-coding them exactly as libjpeg does
// (jchuff.c for sequential scans, jcphuff.c for progressive ones: DC first and refinement, AC first
// and refinement with end-of-band runs and correction bits, restart markers) with tables optimised
// for the image (jcopt, as `cjpeg -optimize`). Every file it writes is valid, so the decoder's
// entropy decoding, IDCT, upsampling and resize paths see every kind of content, not only the
// headers that random bytes reach.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "image/jpeg/frame.h"

namespace fuzz::jpeg_writer {

using crossmodal::jpeg::kNatural;

struct Scan {
  int ncomp = 0;
  int comp[3] = {};
  int ss = 0, se = 63, ah = 0, al = 0;
};

struct Image {
  int width = 0, height = 0, ncomp = 0;
  int h[3] = {1, 1, 1}, v[3] = {1, 1, 1}, quant_table[3] = {};
  uint16_t quant[4][64] = {};  // natural order
  bool quant16[4] = {};
  bool progressive = false, jfif = true;
  int restart_interval = 0;
  bool shared_chroma_tables = true;  // components 1 and 2 share Huffman tables, as libjpeg's do
  std::vector<Scan> scans;           // sequential: the one interleaved scan of every component
  // blocks_w * blocks_h blocks of 64, natural order; wider than int16, as a progressive file's first
  // scan can send up to 10 bits above a shift of up to 13.
  std::vector<int32_t> coef[3];

  // The decoder's geometry (frame.cc parse_sof).
  int max_h = 1, max_v = 1, mcus_per_row = 0, mcu_rows = 0;
  int comp_width[3] = {}, comp_height[3] = {}, blocks_w[3] = {}, blocks_h[3] = {};

  void layout() {
    const auto ceil_div = [](int a, int b) { return (a + b - 1) / b; };
    max_h = max_v = 1;
    for (int c = 0; c < ncomp; ++c) max_h = std::max(max_h, h[c]), max_v = std::max(max_v, v[c]);
    if (ncomp == 1) {
      comp_width[0] = width;
      comp_height[0] = height;
      mcus_per_row = blocks_w[0] = ceil_div(width, 8);
      mcu_rows = blocks_h[0] = ceil_div(height, 8);
    } else {
      mcus_per_row = ceil_div(width, 8 * max_h);
      mcu_rows = ceil_div(height, 8 * max_v);
      for (int c = 0; c < ncomp; ++c) {
        comp_width[c] = ceil_div(width * h[c], max_h);
        comp_height[c] = ceil_div(height * v[c], max_v);
        blocks_w[c] = mcus_per_row * h[c];
        blocks_h[c] = mcu_rows * v[c];
      }
    }
    for (int c = 0; c < ncomp; ++c) coef[c].assign(static_cast<size_t>(blocks_w[c]) * blocks_h[c] * 64, 0);
  }
  int32_t* block(int c, int bx, int by) { return coef[c].data() + (static_cast<size_t>(by) * blocks_w[c] + bx) * 64; }
  const int32_t* block(int c, int bx, int by) const {
    return coef[c].data() + (static_cast<size_t>(by) * blocks_w[c] + bx) * 64;
  }
  int dc_table(int c) const { return shared_chroma_tables ? std::min(c, 1) : c; }
  int ac_table(int c) const { return dc_table(c); }
};

inline int bit_length(int v) {
  int n = 0;
  for (unsigned u = static_cast<unsigned>(v < 0 ? -v : v); u; u >>= 1) ++n;
  return n;
}

// A Huffman table: frequencies while counting, then the code lengths and codes libjpeg would use.
struct Huffman {
  long freq[257] = {};
  uint8_t counts[17] = {};  // counts[l]: codes of length l
  uint8_t symbols[256] = {};
  int nsymbols = 0;
  uint16_t code[256] = {};
  uint8_t size[256] = {};

  bool used() const {
    for (int i = 0; i < 256; ++i)
      if (freq[i]) return true;
    return false;
  }

  // libjpeg's jpeg_gen_optimal_table (jchuff.c), then the canonical codes (jpeg_make_c_derived_tbl).
  void build() {
    constexpr int kMaxLength = 32;
    long f[257];
    std::memcpy(f, freq, sizeof f);
    f[256] = 1;  // the reserved pseudo-symbol keeps the all-ones code out of use
    int codesize[257] = {}, others[257];
    std::fill(others, others + 257, -1);
    for (;;) {
      int c1 = -1, c2 = -1;
      long v = 1000000000L;
      for (int i = 0; i <= 256; ++i)
        if (f[i] && f[i] <= v) v = f[i], c1 = i;
      v = 1000000000L;
      for (int i = 0; i <= 256; ++i)
        if (f[i] && f[i] <= v && i != c1) v = f[i], c2 = i;
      if (c2 < 0) break;
      f[c1] += f[c2];
      f[c2] = 0;
      ++codesize[c1];
      while (others[c1] >= 0) ++codesize[c1 = others[c1]];
      others[c1] = c2;
      ++codesize[c2];
      while (others[c2] >= 0) ++codesize[c2 = others[c2]];
    }
    int bits[kMaxLength + 1] = {};
    for (int i = 0; i <= 256; ++i)
      if (codesize[i]) ++bits[codesize[i]];
    for (int i = kMaxLength; i > 16; --i)
      while (bits[i] > 0) {
        int j = i - 2;
        while (bits[j] == 0) --j;
        bits[i] -= 2;
        bits[i - 1]++;
        bits[j + 1] += 2;
        bits[j]--;
      }
    int i = 16;
    while (bits[i] == 0) --i;
    bits[i]--;  // the pseudo-symbol's code
    for (int l = 0; l <= 16; ++l) counts[l] = static_cast<uint8_t>(bits[l]);
    nsymbols = 0;
    for (int l = 1; l <= kMaxLength; ++l)
      for (int s = 0; s <= 255; ++s)
        if (codesize[s] == l) symbols[nsymbols++] = static_cast<uint8_t>(s);
    int p = 0, c = 0;
    for (int l = 1; l <= 16; ++l) {
      for (int k = 0; k < counts[l]; ++k, ++p) {
        code[symbols[p]] = static_cast<uint16_t>(c++);
        size[symbols[p]] = static_cast<uint8_t>(l);
      }
      c <<= 1;
    }
  }
};

// Where a scan's symbols and bits go: counted (first pass) or written (second pass).
class Sink {
 public:
  Sink(Huffman* dc, Huffman* ac, std::vector<uint8_t>* out) : dc_(dc), ac_(ac), out_(out) {}
  void dc(int table, int symbol) { emit(dc_[table], symbol); }
  void ac(int table, int symbol) { emit(ac_[table], symbol); }
  void bits(uint32_t value, int n) {
    if (!out_ || n == 0) return;
    acc_ = (acc_ << n) | (value & ((1u << n) - 1));
    nbits_ += n;
    while (nbits_ >= 8) {
      const uint8_t byte = static_cast<uint8_t>(acc_ >> (nbits_ - 8));
      out_->push_back(byte);
      if (byte == 0xFF) out_->push_back(0);  // stuffing
      nbits_ -= 8;
    }
    acc_ &= (uint64_t{1} << nbits_) - 1;
  }
  // libjpeg's flush_bits: pad the last byte with ones.
  void flush() {
    bits(0x7F, 7);
    acc_ = 0;
    nbits_ = 0;
  }
  void marker(uint8_t code) {
    if (!out_) return;
    out_->push_back(0xFF);
    out_->push_back(code);
  }

 private:
  void emit(Huffman& t, int symbol) {
    if (!out_) {
      ++t.freq[symbol];
      return;
    }
    bits(t.code[symbol], t.size[symbol]);
  }
  Huffman* dc_;
  Huffman* ac_;
  std::vector<uint8_t>* out_;
  uint64_t acc_ = 0;
  int nbits_ = 0;
};

// One scan's entropy-coded data, as libjpeg's encoder writes it.
class ScanEncoder {
 public:
  ScanEncoder(const Image& img, const Scan& scan, Sink& sink) : img_(img), scan_(scan), sink_(sink) {}

  void run() {
    const bool interleaved = scan_.ncomp > 1;
    const int first = scan_.comp[0];
    const int mcus_w = interleaved ? img_.mcus_per_row : (img_.comp_width[first] + 7) / 8;
    const int mcus_h = interleaved ? img_.mcu_rows : (img_.comp_height[first] + 7) / 8;
    int to_go = img_.restart_interval, next_restart = 0;
    for (int my = 0; my < mcus_h; ++my)
      for (int mx = 0; mx < mcus_w; ++mx) {
        if (img_.restart_interval) {
          if (to_go == 0) {
            emit_eobrun();
            sink_.flush();
            sink_.marker(static_cast<uint8_t>(0xD0 + next_restart));
            next_restart = (next_restart + 1) & 7;
            to_go = img_.restart_interval;
            std::fill(last_dc_, last_dc_ + 3, 0);
          }
          --to_go;
        }
        if (!interleaved) {
          encode_block(0, first, img_.block(first, mx, my));
          continue;
        }
        for (int i = 0; i < scan_.ncomp; ++i) {
          const int c = scan_.comp[i];
          for (int by = 0; by < img_.v[c]; ++by)
            for (int bx = 0; bx < img_.h[c]; ++bx) encode_block(i, c, img_.block(c, mx * img_.h[c] + bx, my * img_.v[c] + by));
        }
      }
    emit_eobrun();
    sink_.flush();
  }

 private:
  void encode_block(int i, int c, const int32_t* block) {
    if (!img_.progressive) return sequential(i, c, block);
    if (scan_.ss == 0) {
      if (scan_.ah == 0) return dc_value(i, c, block[0] >> scan_.al);
      sink_.bits(static_cast<uint32_t>(block[0] >> scan_.al), 1);
      return;
    }
    if (scan_.ah == 0) return ac_first(c, block);
    ac_refine(c, block);
  }

  void dc_value(int i, int c, int value) {
    const int diff = value - last_dc_[i];
    last_dc_[i] = value;
    const int n = bit_length(diff);
    sink_.dc(img_.dc_table(c), n);
    sink_.bits(static_cast<uint32_t>(diff < 0 ? diff - 1 : diff), n);
  }

  // jchuff.c encode_one_block.
  void sequential(int i, int c, const int32_t* block) {
    dc_value(i, c, block[0]);
    const int table = img_.ac_table(c);
    int run = 0;
    for (int k = 1; k < 64; ++k) {
      const int v = block[kNatural[k]];
      if (v == 0) {
        ++run;
        continue;
      }
      for (; run > 15; run -= 16) sink_.ac(table, 0xF0);
      const int n = bit_length(v);
      sink_.ac(table, (run << 4) + n);
      sink_.bits(static_cast<uint32_t>(v < 0 ? v - 1 : v), n);
      run = 0;
    }
    if (run > 0) sink_.ac(table, 0x00);
  }

  // jcphuff.c encode_mcu_AC_first.
  void ac_first(int c, const int32_t* block) {
    table_ = img_.ac_table(c);
    int run = 0;
    for (int k = scan_.ss; k <= std::min(scan_.se, 63); ++k) {
      int v = block[kNatural[k]], bits;
      if (v == 0) {
        ++run;
        continue;
      }
      if (v < 0) {
        v = -v >> scan_.al;
        bits = ~v;
      } else {
        v >>= scan_.al;
        bits = v;
      }
      if (v == 0) {
        ++run;
        continue;
      }
      emit_eobrun();
      for (; run > 15; run -= 16) sink_.ac(table_, 0xF0);
      const int n = bit_length(v);
      sink_.ac(table_, (run << 4) + n);
      sink_.bits(static_cast<uint32_t>(bits), n);
      run = 0;
    }
    if (run > 0 && ++eobrun_ == 0x7FFF) emit_eobrun();
  }

  // jcphuff.c encode_mcu_AC_refine: correction bits for coefficients already non-zero are buffered
  // until the symbol they follow is written: this block's from br_start_, those of a pending
  // end-of-band run in [0, be_).
  void ac_refine(int c, const int32_t* block) {
    table_ = img_.ac_table(c);
    int absolute[64] = {}, eob = 0;
    for (int k = scan_.ss; k <= std::min(scan_.se, 63); ++k) {
      const int v = block[kNatural[k]];
      absolute[k] = (v < 0 ? -v : v) >> scan_.al;
      if (absolute[k] == 1) eob = k;  // the last coefficient that becomes non-zero in this scan
    }
    int run = 0, br = 0;
    size_t br_start = be_;
    auto emit_block_bits = [&] {
      for (int b = 0; b < br; ++b) sink_.bits(buffer_[br_start + b], 1);
      br_start = 0;
      br = 0;
    };
    for (int k = scan_.ss; k <= std::min(scan_.se, 63); ++k) {
      const int v = absolute[k];
      if (v == 0) {
        ++run;
        continue;
      }
      while (run > 15 && k <= eob) {
        emit_eobrun();
        sink_.ac(table_, 0xF0);
        run -= 16;
        emit_block_bits();
      }
      if (v > 1) {
        buffer_[br_start + br++] = static_cast<uint8_t>(v & 1);
        continue;
      }
      emit_eobrun();
      sink_.ac(table_, (run << 4) + 1);
      sink_.bits(block[kNatural[k]] < 0 ? 0 : 1, 1);
      emit_block_bits();
      run = 0;
    }
    if (run > 0 || br > 0) {
      ++eobrun_;
      be_ += br;
      if (eobrun_ == 0x7FFF || be_ > kMaxCorrectionBits - 64 + 1) emit_eobrun();
    }
  }

  void emit_eobrun() {
    if (eobrun_ == 0) return;
    const int n = bit_length(eobrun_) - 1;
    sink_.ac(table_, n << 4);
    sink_.bits(static_cast<uint32_t>(eobrun_), n);
    eobrun_ = 0;
    for (size_t b = 0; b < be_; ++b) sink_.bits(buffer_[b], 1);
    be_ = 0;
  }

  static constexpr size_t kMaxCorrectionBits = 1000;  // libjpeg's MAX_CORR_BITS
  const Image& img_;
  const Scan& scan_;
  Sink& sink_;
  int last_dc_[3] = {};
  int eobrun_ = 0;
  int table_ = 0;
  uint8_t buffer_[kMaxCorrectionBits] = {};
  size_t be_ = 0;
};

inline void put16(std::vector<uint8_t>& out, int v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

inline void write_huffman(std::vector<uint8_t>& out, int klass, int id, const Huffman& t) {
  out.insert(out.end(), {0xFF, 0xC4});
  put16(out, 2 + 17 + t.nsymbols);
  out.push_back(static_cast<uint8_t>((klass << 4) | id));
  out.insert(out.end(), t.counts + 1, t.counts + 17);
  out.insert(out.end(), t.symbols, t.symbols + t.nsymbols);
}

// The whole file.
inline std::vector<uint8_t> write(const Image& img) {
  std::vector<uint8_t> out{0xFF, 0xD8};
  if (img.jfif) out.insert(out.end(), {0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
  bool used[4] = {};
  for (int c = 0; c < img.ncomp; ++c) used[img.quant_table[c] & 3] = true;
  for (int t = 0; t < 4; ++t) {
    if (!used[t]) continue;
    out.insert(out.end(), {0xFF, 0xDB});
    put16(out, 2 + 1 + (img.quant16[t] ? 128 : 64));
    out.push_back(static_cast<uint8_t>((img.quant16[t] ? 0x10 : 0) | t));
    for (int k = 0; k < 64; ++k) {
      const int q = img.quant[t][kNatural[k]];
      if (img.quant16[t]) put16(out, q);
      else out.push_back(static_cast<uint8_t>(q));
    }
  }
  out.insert(out.end(), {0xFF, static_cast<uint8_t>(img.progressive ? 0xC2 : 0xC1)});
  put16(out, 8 + 3 * img.ncomp);
  out.push_back(8);
  put16(out, img.height);
  put16(out, img.width);
  out.push_back(static_cast<uint8_t>(img.ncomp));
  for (int c = 0; c < img.ncomp; ++c) {
    out.push_back(static_cast<uint8_t>(c + 1));
    out.push_back(static_cast<uint8_t>((img.h[c] << 4) | img.v[c]));
    out.push_back(static_cast<uint8_t>(img.quant_table[c]));
  }
  if (img.restart_interval) {
    out.insert(out.end(), {0xFF, 0xDD, 0, 4});
    put16(out, img.restart_interval);
  }
  for (const Scan& scan : img.scans) {
    // Tables optimised for this scan: count its symbols, then write them.
    Huffman dc[4], ac[4];
    Sink counter(dc, ac, nullptr);
    ScanEncoder(img, scan, counter).run();
    for (int t = 0; t < 4; ++t) {
      if (dc[t].used()) dc[t].build(), write_huffman(out, 0, t, dc[t]);
      if (ac[t].used()) ac[t].build(), write_huffman(out, 1, t, ac[t]);
    }
    out.insert(out.end(), {0xFF, 0xDA});
    put16(out, 6 + 2 * scan.ncomp);
    out.push_back(static_cast<uint8_t>(scan.ncomp));
    for (int i = 0; i < scan.ncomp; ++i) {
      const int c = scan.comp[i];
      out.push_back(static_cast<uint8_t>(c + 1));
      out.push_back(static_cast<uint8_t>((img.dc_table(c) << 4) | img.ac_table(c)));
    }
    out.push_back(static_cast<uint8_t>(scan.ss));
    out.push_back(static_cast<uint8_t>(scan.se));
    out.push_back(static_cast<uint8_t>((scan.ah << 4) | scan.al));
    Sink writer(dc, ac, &out);
    ScanEncoder(img, scan, writer).run();
  }
  out.insert(out.end(), {0xFF, 0xD9});
  return out;
}

}  // namespace fuzz::jpeg_writer
