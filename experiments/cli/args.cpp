#include "experiments/cli/args.h"

#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "experiments/params.h"

namespace attnlab {
namespace fs = std::filesystem;

std::uint64_t seed_option(const std::string& text, const std::string& option) {
  return parse_seed(text, option);
}

void check_output_dir(const std::string& path, const std::string& option) {
  if (path.empty()) throw InputError(option + " is empty; give a folder (e.g. results)");
  if (fs::exists(path) && !fs::is_directory(path))
    throw InputError(option + " '" + path + "' is a file; give a folder");
  try {
    ensure_writable_dir(path);
  } catch (const InputError& e) {
    throw InputError(option + ": " + e.what());
  }
}

void check_output_file(const std::string& path, const std::string& option) {
  if (path.empty()) throw InputError(option + " is empty; give a file name");
  const fs::path p(path);
  if (fs::is_directory(p) || path.back() == '/')
    throw InputError(option + " '" + path + "' is a folder; give a file name");
  try {
    ensure_writable_dir(p.parent_path());
  } catch (const InputError& e) {
    throw InputError(option + ": " + e.what());
  }
  if (fs::exists(p) && ::access(p.c_str(), W_OK) != 0)
    throw InputError(option + " '" + path + "' exists and is not writable");
}

}  // namespace attnlab
