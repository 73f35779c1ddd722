// The one dispatch point: which kernel table every scan uses.
#pragma once
#include <string>

#include "kernels/kernel_table.h"

namespace crossmodal {

// The table in use. Chosen on first use from the CPU's features, capped by
// the CROSSMODAL_SIMD environment variable when set.
const KernelTable& active_kernels();

// The table of a level, or nullptr if this build has none for it.
const KernelTable* kernel_table_for(const std::string& level);

// Caps the level at `level` (one of supported_simd_levels()); returns false
// if the CPU cannot run it, leaving the current choice unchanged.
bool select_simd_level(const std::string& level);

}  // namespace crossmodal
