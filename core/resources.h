#pragma once
// Where attnlab's read-only files live: the claim files, the figure and benchmark scripts and the
// ETT data. An installed attnlab (`cmake --install build --prefix P`) finds them in
// P/share/attnlab beside its P/bin/attnlab, whatever the current directory; a binary run from its
// build tree finds them in the source tree it was built from. Both hold the same layout
// (experiments/claims, analysis/plots, bench, data/ett).
#include <filesystem>

namespace attnlab {

std::filesystem::path resource_dir();

}  // namespace attnlab
