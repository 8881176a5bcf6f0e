#include "core/io.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.h"

namespace attnlab {
namespace fs = std::filesystem;

namespace {

// Longest ".tmp.<host>.<pid>.<n>" suffix: 16 hex digits of host, pid and counter at most 10
// digits each.
constexpr std::size_t kTempSuffixMax = 43;

[[noreturn]] void cannot_write(const fs::path& path, const std::string& why) {
  throw InputError("cannot write '" + path.string() + "': " + why);
}

// This machine, as 16 hex digits (FNV-1a of the host name): a pid names a process on one host
// only, and result folders may sit on a file system that several cluster nodes share.
const std::string& host_tag() {
  static const std::string tag = [] {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
    std::uint64_t h = 1469598103934665603ULL;
    for (const char* c = name; *c != '\0'; ++c)
      h = (h ^ static_cast<unsigned char>(*c)) * 1099511628211ULL;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return std::string(hex);
  }();
  return tag;
}

// `<path>.tmp.<host>.<pid>.<n>`: unique per host, process and call, so concurrent writers of one
// path never share a temp file, and remove_stale_temps can tell whose it is.
fs::path temp_path(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  fs::path tmp = path;
  tmp += ".tmp." + host_tag() + "." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  return tmp;
}

// Writes `content` to a new temp file beside `path` and returns its name. On any error
// (ENOSPC at write or at close included) removes the temp file and throws naming `path`.
fs::path write_temp(const fs::path& path, std::string_view content) {
  const fs::path tmp = temp_path(path);
  // O_TRUNC, not O_EXCL: a file of that name is a dead process's leftover (its pid is ours now).
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) cannot_write(path, std::strerror(errno));
  const char* p = content.data();
  std::size_t left = content.size();
  int err = 0;
  while (left > 0) {
    const ssize_t w = ::write(fd, p, std::min<std::size_t>(left, std::size_t{1} << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : ENOSPC;  // 0 bytes for a regular file: treat as full
      break;
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  // Linux releases the descriptor even when close fails; EINTR there loses no data.
  if (::close(fd) != 0 && err == 0 && errno != EINTR) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    cannot_write(path, std::strerror(err));
  }
  return tmp;
}

void rename_into_place(const fs::path& tmp, const fs::path& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    cannot_write(path, std::strerror(err));
  }
}

}  // namespace

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
  rename_into_place(write_temp(path, content), path);
}

void write_json_atomic(const fs::path& path, const nlohmann::json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}

void write_file_pair_atomic(const fs::path& data, std::string_view data_content,
                            const fs::path& sidecar, std::string_view sidecar_content) {
  ensure_writable_dir(data.parent_path());
  ensure_writable_dir(sidecar.parent_path());
  const fs::path data_tmp = write_temp(data, data_content);
  fs::path sidecar_tmp;
  try {
    sidecar_tmp = write_temp(sidecar, sidecar_content);
  } catch (...) {
    ::unlink(data_tmp.c_str());
    throw;
  }
  // The old data file goes first, so it never sits beside the new sidecar.
  if (::unlink(data.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    ::unlink(data_tmp.c_str());
    ::unlink(sidecar_tmp.c_str());
    cannot_write(data, std::strerror(err));
  }
  try {
    rename_into_place(sidecar_tmp, sidecar);
  } catch (...) {
    ::unlink(data_tmp.c_str());
    throw;
  }
  try {
    rename_into_place(data_tmp, data);
  } catch (...) {
    ::unlink(sidecar.c_str());  // a sidecar without its data would describe nothing
    throw;
  }
}

void check_writable_file(const fs::path& path) {
  std::error_code ec;
  if (path.empty() || !path.has_filename()) cannot_write(path, "not a file path");
  if (fs::is_directory(path, ec)) cannot_write(path, "it is a directory");
  const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::path dir = parent;  // nearest existing ancestor
  while (fs::status(dir, ec).type() == fs::file_type::not_found) {
    fs::path up = dir.parent_path();
    if (up.empty()) up = ".";
    if (up == dir) break;
    dir = up;
  }
  if (!fs::is_directory(dir, ec)) cannot_write(path, "'" + dir.string() + "' is not a directory");
  if (::access(dir.c_str(), W_OK) != 0)
    cannot_write(path, "directory '" + dir.string() + "' is not writable");
  const long name_max = ::pathconf(dir.c_str(), _PC_NAME_MAX);
  const std::size_t limit = name_max > 0 ? static_cast<std::size_t>(name_max) : 255;
  if (path.filename().string().size() + kTempSuffixMax > limit)
    cannot_write(
        path, "the file name is longer than " + std::to_string(limit - kTempSuffixMax) + " bytes");
  if (dir != parent) return;  // the parent will be created; nothing more to probe
  // A probe temp file catches read-only file systems and other refusals access() misses.
  const fs::path probe = temp_path(path);
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) cannot_write(path, std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

namespace {

// The pid in a temp file name `<name>.tmp.<host>.<pid>.<n>` written on this host, or 0 when the
// name is not one (or another host's).
pid_t temp_owner(const std::string& name) {
  const std::size_t dot_n = name.rfind('.');
  if (dot_n == std::string::npos || dot_n + 1 == name.size() || dot_n == 0) return 0;
  const std::size_t dot_pid = name.rfind('.', dot_n - 1);
  if (dot_pid == std::string::npos || dot_pid + 1 == dot_n) return 0;
  const std::string tag = ".tmp." + host_tag();
  if (dot_pid < tag.size() || name.compare(dot_pid - tag.size(), tag.size(), tag) != 0) return 0;
  for (std::size_t i = dot_n + 1; i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return 0;
  pid_t pid = 0;
  const char* b = name.data() + dot_pid + 1;
  const char* e = name.data() + dot_n;
  const auto [end, ec] = std::from_chars(b, e, pid);
  if (ec != std::errc() || end != e || pid <= 0) return 0;
  return pid;
}

}  // namespace

void remove_stale_temps(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code ec2;
    if (!it->is_regular_file(ec2) || it->is_symlink(ec2)) continue;
    const pid_t pid = temp_owner(it->path().filename().string());
    if (pid == 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    fs::remove(it->path(), ec2);
  }
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
