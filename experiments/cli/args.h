#pragma once
// Checks of command-line values shared by the subcommands, done before any work starts so that
// a bad value costs nothing: each throws InputError naming the option and what is allowed.
#include <cstdint>
#include <string>

namespace attnlab {

// `--seed` text: decimal digits in [0, 2^64 - 1]; no sign, no empty value, no clamping.
std::uint64_t seed_option(const std::string& text, const std::string& option = "--seed");
// A folder to write into: non-empty, creatable or existing, writable.
void check_output_dir(const std::string& path, const std::string& option);
// A file to write: non-empty, not a folder, its folder writable, the file writable if present.
void check_output_file(const std::string& path, const std::string& option);

}  // namespace attnlab
