#include "core/resources.h"

#include <system_error>

namespace attnlab {

std::filesystem::path resource_dir() {
  namespace fs = std::filesystem;
  static const fs::path dir = [] {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
      // <prefix>/bin/attnlab -> <prefix>/share/attnlab, when the install put the claims there.
      const fs::path share = exe.parent_path().parent_path() / "share" / "attnlab";
      if (fs::is_directory(share / "experiments" / "claims", ec)) return share;
    }
    return fs::path(ATTNLAB_SOURCE_DIR);
  }();
  return dir;
}

}  // namespace attnlab
