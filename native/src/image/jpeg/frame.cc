#include "frame.h"

#include <cstring>

namespace crossmodal::jpeg {
namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

struct Segment {
  const uint8_t* p;
  size_t n;
  int u8(size_t i) const { return p[i]; }
  int u16(size_t i) const { return (p[i] << 8) | p[i + 1]; }
};

struct Tables {
  bool quant_defined[4] = {};
  int32_t quant[4][64] = {};
  bool jfif = false, adobe = false;
  int adobe_transform = -1;
};

const char* parse_dqt(Segment s, Tables& t) {
  size_t i = 0;
  while (i < s.n) {
    const int pq = s.u8(i) >> 4, tq = s.u8(i) & 15;
    ++i;
    if (tq > 3 || pq > 1) return "invalid quantisation table";
    const size_t bytes = pq ? 128 : 64;
    if (i + bytes > s.n) return "truncated quantisation table";
    for (int k = 0; k < 64; ++k) t.quant[tq][kNatural[k]] = pq ? s.u16(i + 2 * k) : s.u8(i + k);
    t.quant_defined[tq] = true;
    i += bytes;
  }
  return nullptr;
}

const char* parse_dht(Segment s, Frame& f) {
  size_t i = 0;
  while (i < s.n) {
    if (i + 17 > s.n) return "truncated Huffman table";
    const int tc = s.u8(i) >> 4, th = s.u8(i) & 15;
    if (tc > 1 || th > 3) return "invalid Huffman table";
    HuffmanSpec& spec = tc ? f.ac[th] : f.dc[th];
    int total = 0;
    spec.counts[0] = 0;
    for (int l = 1; l <= 16; ++l) total += spec.counts[l] = static_cast<uint8_t>(s.u8(i + l));
    i += 17;
    if (total > 256 || i + total > s.n) return "invalid Huffman table";
    std::memcpy(spec.symbols, s.p + i, total);
    spec.defined = true;
    i += total;
  }
  return nullptr;
}

const char* parse_sof(Segment s, Frame& f) {
  if (s.n < 6) return "truncated frame header";
  if (s.u8(0) != 8) return "not 8-bit";
  f.height = s.u16(1);
  f.width = s.u16(3);
  f.ncomp = s.u8(5);
  if (f.height == 0) return "height given by a DNL marker";
  if (f.width < 16 || f.height < 16) return "smaller than 16 pixels";
  if (f.ncomp != 1 && f.ncomp != 3) return "not greyscale or three-component";
  if (s.n < 6 + 3 * static_cast<size_t>(f.ncomp)) return "truncated frame header";
  for (int c = 0; c < f.ncomp; ++c) {
    Component& comp = f.comp[c];
    comp.id = s.u8(6 + 3 * c);
    comp.h = s.u8(7 + 3 * c) >> 4;
    comp.v = s.u8(7 + 3 * c) & 15;
    comp.quant_table = s.u8(8 + 3 * c);
    if (comp.h < 1 || comp.h > 4 || comp.v < 1 || comp.v > 4 || comp.quant_table > 3) return "invalid component";
    for (int d = 0; d < c; ++d)
      if (f.comp[d].id == comp.id) return "duplicate component id";
  }
  if (f.ncomp == 1) f.comp[0].h = f.comp[0].v = 1;  // a lone component's sampling factors do not matter
  f.max_h = f.max_v = 1;
  for (int c = 0; c < f.ncomp; ++c) {
    if (f.comp[c].h > f.max_h) f.max_h = f.comp[c].h;
    if (f.comp[c].v > f.max_v) f.max_v = f.comp[c].v;
  }
  // Upsampling ratios the fast path implements, as libjpeg's fancy upsampler: 1x1, 2x1 and 2x2.
  for (int c = 0; c < f.ncomp; ++c) {
    const Component& comp = f.comp[c];
    if (f.max_h % comp.h || f.max_v % comp.v) return "fractional sampling ratio";
    const int rh = f.max_h / comp.h, rv = f.max_v / comp.v;
    if (!((rh == 1 && rv == 1) || (rh == 2 && rv == 1) || (rh == 2 && rv == 2))) return "unsupported chroma subsampling";
  }
  if (f.ncomp == 1) {
    Component& comp = f.comp[0];
    comp.width = f.width;
    comp.height = f.height;
    f.mcus_per_row = comp.blocks_w = ceil_div(f.width, 8);
    f.mcu_rows = comp.blocks_h = ceil_div(f.height, 8);
  } else {
    f.mcus_per_row = ceil_div(f.width, 8 * f.max_h);
    f.mcu_rows = ceil_div(f.height, 8 * f.max_v);
    for (int c = 0; c < f.ncomp; ++c) {
      Component& comp = f.comp[c];
      comp.width = ceil_div(f.width * comp.h, f.max_h);
      comp.height = ceil_div(f.height * comp.v, f.max_v);
      comp.blocks_w = f.mcus_per_row * comp.h;
      comp.blocks_h = f.mcu_rows * comp.v;
    }
  }
  return nullptr;
}

// A scan header, checked as libjpeg checks it (jdinput.c, and jdphuff.c's start_pass for
// progressive scans). Selects the Huffman tables of the scan's components.
const char* parse_sos(Segment s, Frame& f) {
  if (f.ncomp == 0) return "scan before frame header";
  if (s.n < 1) return "truncated scan header";
  ScanHeader& scan = f.scan;
  scan.ncomp = s.u8(0);
  if (scan.ncomp < 1 || scan.ncomp > f.ncomp) return "invalid scan component count";
  if (s.n < 4 + 2 * static_cast<size_t>(scan.ncomp)) return "truncated scan header";
  bool seen[3] = {};
  int blocks_per_mcu = 0;
  for (int i = 0; i < scan.ncomp; ++i) {
    const int id = s.u8(1 + 2 * i), tables = s.u8(2 + 2 * i);
    int c = 0;
    while (c < f.ncomp && f.comp[c].id != id) ++c;
    if (c == f.ncomp || seen[c]) return "scan names an unknown component";
    seen[c] = true;
    scan.comp[i] = c;
    f.comp[c].dc_table = tables >> 4;
    f.comp[c].ac_table = tables & 15;
    if (f.comp[c].dc_table > 3 || f.comp[c].ac_table > 3) return "invalid Huffman table number";
    blocks_per_mcu += f.comp[c].h * f.comp[c].v;
  }
  // libjpeg refuses an interleaved scan of more than 10 blocks per MCU (D_MAX_BLOCKS_IN_MCU), so
  // such a file (4x2 luma with 2x1 chroma, say) has no pixels to be identical to.
  if (scan.ncomp > 1 && blocks_per_mcu > 10) return "more than 10 blocks per MCU";
  const size_t o = 1 + 2 * static_cast<size_t>(scan.ncomp);
  scan.ss = s.u8(o);
  scan.se = s.u8(o + 1);
  scan.ah = s.u8(o + 2) >> 4;
  scan.al = s.u8(o + 2) & 15;
  if (!f.progressive) {
    if (scan.ncomp != f.ncomp) return "scan does not hold every component";
    if (scan.ss != 0 || scan.se != 63 || scan.ah != 0 || scan.al != 0) return "not a sequential scan";
  } else {
    const bool dc = scan.ss == 0;
    if (dc ? scan.se != 0 : (scan.ss > scan.se || scan.se > 63 || scan.ncomp != 1)) return "invalid progressive scan";
    if ((scan.ah != 0 && scan.al != scan.ah - 1) || scan.al > 13) return "invalid successive approximation";
  }
  // The tables this scan decodes with must exist (a DC refinement scan reads raw bits only).
  for (int i = 0; i < scan.ncomp; ++i) {
    const Component& comp = f.comp[scan.comp[i]];
    if (scan.ss == 0 && scan.ah == 0 && !f.dc[comp.dc_table].defined) return "scan uses an undefined Huffman table";
    if (scan.se > 0 && !f.ac[comp.ac_table].defined) return "scan uses an undefined Huffman table";
  }
  return nullptr;
}

// Quantisation tables, latched for every component at the first scan (a file that redefines
// them later is declined, so the first scan's tables are each component's tables).
const char* latch_quant_tables(Frame& f, const Tables& t) {
  for (int c = 0; c < f.ncomp; ++c) {
    Component& comp = f.comp[c];
    if (!t.quant_defined[comp.quant_table]) return "undefined quantisation table";
    std::memcpy(comp.quant, t.quant[comp.quant_table], sizeof comp.quant);
  }
  return nullptr;
}

// One marker segment at data[i] (after any fill bytes): its code and contents.
struct Marker {
  int code;
  Segment segment;
  size_t next;  // index after the segment
};

const char* read_marker(const uint8_t* data, size_t size, size_t i, Marker& m) {
  if (i >= size || data[i] != 0xFF) return "garbage between markers";
  while (i < size && data[i] == 0xFF) ++i;  // fill bytes
  if (i >= size) return "truncated marker";
  m.code = data[i++];
  if (m.code == 0xD9) {  // EOI has no length
    m.segment = {data + i, 0};
    m.next = i;
    return nullptr;
  }
  if (i + 2 > size) return "truncated marker";
  const size_t length = (static_cast<size_t>(data[i]) << 8) | data[i + 1];
  if (length < 2 || i + length > size) return "truncated marker segment";
  m.segment = {data + i + 2, length - 2};
  m.next = i + length;
  return nullptr;
}

const char* parse_dri(Segment s, Frame& f) {
  if (s.n < 2) return "truncated restart interval";
  f.restart_interval = s.u16(0);
  return nullptr;
}

// libjpeg's choice of colour space for three components (jdapimin.c default_decompress_parms),
// restricted to the cases that are YCbCr without a warning.
const char* check_colour(const Frame& f, const Tables& t) {
  if (f.ncomp != 3 || t.jfif) return nullptr;
  if (t.adobe) return t.adobe_transform == 1 ? nullptr : "Adobe transform other than YCbCr";
  if (f.comp[0].id == 'R' && f.comp[1].id == 'G' && f.comp[2].id == 'B') return "RGB components";
  return nullptr;
}

}  // namespace

const char* parse_frame(const uint8_t* data, size_t size, Frame& frame) {
  if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return "no SOI marker";
  Tables tables;
  bool have_frame = false;
  frame.end = data + size;
  for (size_t i = 2;;) {
    Marker m;
    if (const char* why = read_marker(data, size, i, m)) return why;
    const Segment& s = m.segment;
    const char* why = nullptr;
    switch (m.code) {
      case 0xC0:
      case 0xC1:
      case 0xC2:
        if (have_frame) return "two frame headers";
        have_frame = true;
        frame.progressive = m.code == 0xC2;
        why = parse_sof(s, frame);
        break;
      case 0xC4: why = parse_dht(s, frame); break;
      case 0xDB: why = parse_dqt(s, tables); break;
      case 0xDD: why = parse_dri(s, frame); break;
      case 0xE0:
        if (s.n >= 14 && std::memcmp(s.p, "JFIF", 5) == 0) tables.jfif = true;
        break;
      case 0xEE:
        if (s.n >= 12 && std::memcmp(s.p, "Adobe", 5) == 0) {
          tables.adobe = true;
          tables.adobe_transform = s.u8(11);
        }
        break;
      case 0xDA:
        if ((why = parse_sos(s, frame))) return why;
        if ((why = latch_quant_tables(frame, tables))) return why;
        if ((why = check_colour(frame, tables))) return why;
        frame.scan.data = data + m.next;
        return nullptr;
      default:
        if ((m.code >= 0xE1 && m.code <= 0xEF) || m.code == 0xFE) break;  // APPn, COM
        if (m.code >= 0xC3 && m.code <= 0xCF) return "arithmetic, lossless or hierarchical coding";
        return "unexpected marker before the scan";
    }
    if (why) return why;
    i = m.next;
  }
}

const char* next_scan(const uint8_t* p, Frame& frame, bool& eoi) {
  const uint8_t* begin = p;
  const size_t size = static_cast<size_t>(frame.end - begin);
  eoi = false;
  for (size_t i = 0;;) {
    Marker m;
    if (const char* why = read_marker(begin, size, i, m)) return why;
    const char* why = nullptr;
    switch (m.code) {
      case 0xD9: eoi = true; return nullptr;
      case 0xC4: why = parse_dht(m.segment, frame); break;
      case 0xDD: why = parse_dri(m.segment, frame); break;
      case 0xDA:
        if ((why = parse_sos(m.segment, frame))) return why;
        frame.scan.data = begin + m.next;
        return nullptr;
      default:
        if ((m.code >= 0xE0 && m.code <= 0xEF) || m.code == 0xFE) break;  // APPn, COM
        return "unexpected marker between scans";
    }
    if (why) return why;
    i = m.next;
  }
}

}  // namespace crossmodal::jpeg
