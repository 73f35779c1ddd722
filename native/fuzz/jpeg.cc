// Fuzz target `jpeg`: the input is a JPEG file, as the embedder receives one. The seed corpus (run.ts)
// holds sharp and cjpeg files of every kind the decoder handles; libFuzzer mutates them. The decode
// parameters (threads, orientation, resize) come from a hash of the input, so that a mutation varies
// them too and every input is reproducible on its own.
#include "jpeg_check.h"

namespace {
fuzz::PrintCountersAtExit print_counters;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::check_jpeg(data, size, fuzz::fnv1a(data, size));
  return 0;
}
