#pragma once
// What this binary was built from, fixed at build time (cmake/git_version.cmake writes it at
// every build): results and kept cells name the code that computed them, not whatever the source
// tree holds when the binary runs.
#include <string>

namespace attnlab {

std::string build_commit();  // the full commit hash; "" when not built from a git checkout
bool build_dirty();          // tracked files (outside results/, README.md) differed from it

}  // namespace attnlab
