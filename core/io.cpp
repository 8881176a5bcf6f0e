#include "core/io.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.h"

namespace attnlab {
namespace fs = std::filesystem;

void ensure_writable_dir(const fs::path& dir) {
  std::error_code ec;
  if (!dir.empty()) fs::create_directories(dir, ec);
  const fs::path d = dir.empty() ? fs::path(".") : dir;
  if (ec || !fs::is_directory(d) || ::access(d.c_str(), W_OK) != 0) {
    throw InputError("cannot write to directory '" + d.string() +
                     "': it must exist or be creatable, and be writable");
  }
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  ensure_writable_dir(path.parent_path());
  // Unique per process and call, so concurrent writers of one path never share a temp file.
  static std::atomic<unsigned> counter{0};
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError("cannot write '" + path.string() + "'");
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      throw InputError("cannot write '" + path.string() + "' (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw InputError("cannot write '" + path.string() + "': " + ec.message());
  }
}

void write_json_atomic(const fs::path& path, const nlohmann::json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}

std::string read_file(const fs::path& path) {
  if (fs::is_directory(path)) throw InputError("cannot read '" + path.string() + "': a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read '" + path.string() + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_json_file(const fs::path& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string() + ": invalid JSON at byte " + std::to_string(e.byte));
  }
}

}  // namespace attnlab
