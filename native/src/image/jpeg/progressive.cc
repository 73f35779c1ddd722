#include "progressive.h"

#include "huffman.h"

namespace crossmodal::jpeg {
namespace {

// Whatever refinement still adds (less than `p1` either way), the coefficient dequantises within the
// 16 bits libjpeg-turbo's SIMD IDCT works in. In 64 bits: a first scan may send 10 bits above a
// shift of 13, and a 16-bit quantisation step makes that product overflow an int.
bool dequantisable(int value, int p1, int32_t quant) {
  return (int64_t{value} + p1) * quant <= 32767 && (int64_t{value} - p1) * quant >= -32768;
}

}  // namespace

struct ProgressiveDecoder::State {
  HuffmanTable dc[4], ac[4];
  BitReader reader;
  // libjpeg's coef_bits: per component and coefficient, the Al of the last scan that
  // coded it, -1 before any.
  int coef_bits[3][64];
  int last_dc[3] = {};
  int eobrun = 0;
};

ProgressiveDecoder::ProgressiveDecoder(Frame& frame) : frame_(frame), state_(std::make_unique<State>()) {
  for (int c = 0; c < frame.ncomp; ++c) {
    const size_t blocks = static_cast<size_t>(frame.comp[c].blocks_w) * frame.comp[c].blocks_h;
    // Zeroed: scans only ever touch the coefficients they code.
    grids_[c].coef.reset(new int16_t[blocks * 64]());
    grids_[c].has_ac.reset(new uint8_t[blocks]());
    for (int& bits : state_->coef_bits[c]) bits = -1;
  }
}

ProgressiveDecoder::~ProgressiveDecoder() = default;

const char* ProgressiveDecoder::decode() {
  State& s = *state_;
  for (;;) {
    if (const char* why = decode_scan()) return why;
    bool eoi = false;
    if (const char* why = next_scan(s.reader.p, frame_, eoi)) return why;
    if (eoi) break;
  }
  // libjpeg smooths blocks (jdcoefct.c) when the DC or the first nine AC coefficients of a
  // component were never coded or not refined to the last bit; those files are left to it.
  for (int c = 0; c < frame_.ncomp; ++c)
    for (int k = 0; k < 10; ++k)
      if (s.coef_bits[c][k] != 0) return "progressive refinement left incomplete";
  return nullptr;
}

const char* ProgressiveDecoder::decode_scan() {
  State& s = *state_;
  const Frame& f = frame_;
  const ScanHeader& scan = f.scan;
  const bool dc_band = scan.ss == 0;
  const bool refine = scan.ah != 0;

  // Progression checks (libjpeg warns and goes on; declined here).
  for (int i = 0; i < scan.ncomp; ++i) {
    int* bits = s.coef_bits[scan.comp[i]];
    if (!dc_band && bits[0] < 0) return "AC scan before the DC scan";
    for (int k = scan.ss; k <= scan.se; ++k) {
      if (scan.ah != (bits[k] < 0 ? 0 : bits[k])) return "inconsistent progression";
      bits[k] = scan.al;
    }
  }
  for (int i = 0; i < scan.ncomp; ++i) {
    const Component& comp = f.comp[scan.comp[i]];
    if (dc_band && !refine)
      if (const char* why = s.dc[comp.dc_table].build(f.dc[comp.dc_table], false)) return why;
    if (!dc_band)
      if (const char* why = s.ac[comp.ac_table].build(f.ac[comp.ac_table], true)) return why;
  }

  BitReader& r = s.reader;
  r.restart(scan.data);
  r.end = f.end;
  for (int& dc : s.last_dc) dc = 0;
  s.eobrun = 0;
  int mcus_to_restart = f.restart_interval, next_restart = 0;
  const int p1 = 1 << scan.al, m1 = -(1 << scan.al);

  // A non-interleaved scan covers the component's own blocks, not the MCU-padded grid.
  const Component& first = f.comp[scan.comp[0]];
  const bool interleaved = scan.ncomp > 1;
  const int mcus_w = interleaved ? f.mcus_per_row : (first.width + 7) / 8;
  const int mcus_h = interleaved ? f.mcu_rows : (first.height + 7) / 8;

  auto decode_block = [&](int ci, int c, int bx, int by) -> const char* {
    const Component& comp = f.comp[c];
    int16_t* block = grids_[c].block(bx, by, comp.blocks_w);
    uint8_t& has_ac = grids_[c].has_ac[static_cast<size_t>(by) * comp.blocks_w + bx];
    const int32_t* q = comp.quant;
    r.fill();
    if (dc_band) {
      if (refine) {
        if (r.get(1)) block[0] = static_cast<int16_t>(block[0] | p1);
        return nullptr;
      }
      const int t = decode_symbol(s.dc[comp.dc_table], r);
      if (t < 0 || t > 11) return "bad DC code";
      const int dc = s.last_dc[ci] + (t ? extend(r.get(t), t) : 0);
      s.last_dc[ci] = dc;
      const int value = dc * p1;
      if (value < -32768 || value > 32767 || !dequantisable(value, p1, q[0])) return "DC coefficient out of range";
      block[0] = static_cast<int16_t>(value);
      return nullptr;
    }
    const HuffmanTable& act = s.ac[comp.ac_table];
    if (!refine) {  // jdphuff.c decode_mcu_AC_first
      if (s.eobrun > 0) {
        --s.eobrun;
        return nullptr;
      }
      for (int k = scan.ss; k <= scan.se; ++k) {
        if (r.bits < 32) r.fill();
        // Code and value in one lookup when they fit the lookahead, as in the sequential decoder.
        const int32_t fast = act.fast_ac[r.peek(kFastBits)];
        int run, size, magnitude = 0;
        if (fast) {
          run = (fast >> 8) & 15;
          size = 1;  // any non-zero size: the value is already known
          magnitude = fast >> 16;
          r.skip(fast & 0xFF);
        } else {
          const int rs = decode_symbol(act, r);
          if (rs < 0) return "bad AC code";
          run = rs >> 4;
          size = rs & 15;
          if (size > 10) return "AC coefficient too large";
          if (size) magnitude = extend(r.get(size), size);
        }
        if (size) {
          k += run;
          if (k > scan.se) return "AC coefficients past the band";
          const int value = magnitude * p1;
          const int pos = kNatural[k];
          if (!dequantisable(value, p1, q[pos])) return "AC coefficient out of range";
          block[pos] = static_cast<int16_t>(value);
          has_ac = 1;
        } else if (run == 15) {
          k += 15;
        } else {
          s.eobrun = (1 << run) - 1;
          if (run) s.eobrun += r.get(run);
          break;
        }
      }
      return nullptr;
    }
    // jdphuff.c decode_mcu_AC_refine: new coefficients are +-1 at this bit; those already
    // non-zero get a correction bit as the run passes over them.
    auto correct = [&](int16_t& coef) {
      if (r.bits < 16) r.fill();
      if (r.get(1) && (coef & p1) == 0) coef = static_cast<int16_t>(coef + (coef >= 0 ? p1 : m1));
    };
    int k = scan.ss;
    if (s.eobrun == 0) {
      for (; k <= scan.se; ++k) {
        if (r.bits < 32) r.fill();
        const int rs = decode_symbol(act, r);
        if (rs < 0) return "bad AC code";
        int run = rs >> 4;
        const int size = rs & 15;
        int value = 0;
        if (size) {
          if (size != 1) return "bad AC refinement code";
          value = r.get(1) ? p1 : m1;
        } else if (run != 15) {
          s.eobrun = 1 << run;
          if (run) s.eobrun += r.get(run);
          break;
        }
        do {
          int16_t& coef = block[kNatural[k]];
          if (coef != 0) {
            correct(coef);
          } else if (--run < 0) {
            break;
          }
          ++k;
        } while (k <= scan.se);
        if (value) {
          if (k > scan.se) return "AC coefficients past the band";
          const int pos = kNatural[k];
          if (!dequantisable(value, p1, q[pos])) return "AC coefficient out of range";
          block[pos] = static_cast<int16_t>(value);
          has_ac = 1;
        }
      }
    }
    if (s.eobrun > 0) {
      for (; k <= scan.se; ++k) {
        int16_t& coef = block[kNatural[k]];
        if (coef != 0) correct(coef);
      }
      --s.eobrun;
    }
    return nullptr;
  };

  for (int my = 0; my < mcus_h; ++my) {
    for (int mx = 0; mx < mcus_w; ++mx) {
      if (f.restart_interval) {
        if (mcus_to_restart == 0) {
          if (const char* why = r.read_restart_marker(next_restart)) return why;
          mcus_to_restart = f.restart_interval;
          for (int& dc : s.last_dc) dc = 0;
          s.eobrun = 0;
        }
        --mcus_to_restart;
      }
      if (!interleaved) {
        if (const char* why = decode_block(0, scan.comp[0], mx, my)) return why;
      } else {
        for (int i = 0; i < scan.ncomp; ++i) {
          const int c = scan.comp[i];
          const Component& comp = f.comp[c];
          for (int by = 0; by < comp.v; ++by)
            for (int bx = 0; bx < comp.h; ++bx)
              if (const char* why = decode_block(i, c, mx * comp.h + bx, my * comp.v + by)) return why;
        }
      }
      if (!r.all_real()) return "entropy-coded data ends early";
    }
  }
  if (!r.at_byte_padding()) return "extraneous data after a scan";
  return nullptr;
}

}  // namespace crossmodal::jpeg
