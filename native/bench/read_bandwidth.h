// A plain sequential read of a buffer, the benchmark's physical yardstick.
#pragma once
#include <cstddef>
#include <cstdint>

namespace crossmodal {

// XOR of every 64-bit word (a reduction compilers vectorise without
// reassociating floats), split over `threads` contiguous slices.
uint64_t sequential_read(const void* data, size_t bytes, unsigned threads);

}  // namespace crossmodal
