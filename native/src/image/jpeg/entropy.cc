#include "entropy.h"

#include <cstring>

#include "huffman.h"

namespace crossmodal::jpeg {

struct EntropyDecoder::State {
  HuffmanTable dc[4], ac[4];
  BitReader reader;
  int last_dc[3] = {};
  int row = 0;
  int mcus_to_restart = 0;
  int next_restart = 0;
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
    const Component& comp = frame_.comp[frame_.scan.comp[i]];
    if (const char* why = s.dc[comp.dc_table].build(frame_.dc[comp.dc_table], false)) return why;
    if (const char* why = s.ac[comp.ac_table].build(frame_.ac[comp.ac_table], true)) return why;
  }
  s.reader.restart(frame_.scan.data);
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
        if (const char* why = r.read_restart_marker(s.next_restart)) return why;
        s.mcus_to_restart = f.restart_interval;
        for (int& dc : s.last_dc) dc = 0;
      }
      --s.mcus_to_restart;
    }
    for (int i = 0; i < f.ncomp; ++i) {
      const int c = f.scan.comp[i];
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
          int t = decode_symbol(dct, r);
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
              const int rs = decode_symbol(act, r);
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
