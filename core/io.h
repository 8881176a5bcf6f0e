#pragma once
// File IO with the "nothing half written" rule: content goes to a temporary file beside the
// target, `<target>.tmp.<host>.<pid>.<n>`, which is renamed into place only when complete.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace attnlab {

// Writes `content` to `path` atomically (temp file + rename; no fsync, so atomic against a
// crash of this process, not against power loss). Creates parent folders. Throws InputError
// naming the path when it cannot be written, ENOSPC at write or close included; the temp file
// is removed on every error.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j);

// Writes a data file and the sidecar that describes it (CSV + JSON ground truth) as a unit: both
// to temp files first, then removes the old data file, renames the sidecar into place and the
// data file last. Wherever a crash stops it, a data file on disk is described by the sidecar
// beside it (old pair, old sidecar alone, new sidecar alone, new pair). On error no temp file is
// left, and a sidecar already renamed is removed. Throws InputError naming the path.
void write_file_pair_atomic(const std::filesystem::path& data, std::string_view data_content,
                            const std::filesystem::path& sidecar, std::string_view sidecar_content);

// Checks, before any expensive work, that write_file_atomic(path, ...) can succeed as far as
// can be known, creating nothing that outlives the call: `path` is not a directory, its name
// leaves room for the temp suffix, its nearest existing ancestor is a writable directory, and a
// temp file can be created in the parent when that exists. Throws InputError naming the path.
void check_writable_file(const std::filesystem::path& path);

// Removes the temp files `<name>.tmp.<host>.<pid>.<n>` in `dir` (not recursive) whose writer is
// gone: regular files written on this host (a hash of its name) whose pid is not a live process
// (kill(pid, 0) fails with ESRCH), so never a live process's temp file, not even another
// cluster node's on a shared file system (hosts with one name and separate PID namespaces, such
// as containers, are the exception). Best effort: never throws.
void remove_stale_temps(const std::filesystem::path& dir);

// Reads a whole regular file; throws InputError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);
// Parses JSON; throws InputError naming the file and the byte offset of a syntax error.
nlohmann::json read_json_file(const std::filesystem::path& path);

// Checks that `dir` exists or can be created and is writable; throws InputError otherwise.
void ensure_writable_dir(const std::filesystem::path& dir);

}  // namespace attnlab
