#pragma once
// File IO with the "nothing half written" rule: content goes to a temporary file beside the
// target, which is renamed into place only when complete.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace attnlab {

// Writes `content` to `path` atomically (temp file + rename). Creates parent folders.
// Throws InputError naming the path when it cannot be written.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& j);

// Reads a whole regular file; throws InputError naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);
// Parses JSON; throws InputError naming the file and the byte offset of a syntax error.
nlohmann::json read_json_file(const std::filesystem::path& path);

// Checks that `dir` exists or can be created and is writable; throws InputError otherwise.
void ensure_writable_dir(const std::filesystem::path& dir);

}  // namespace attnlab
