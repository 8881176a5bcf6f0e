#pragma once
// Running the real `attnlab` executable from tests: exit status, stdout and stderr, with a time
// limit, in fresh per-process temp folders.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/io.h"

namespace attnlab::testutil {

struct CliRun {
  int status = -1;  // exit status; -1 when killed by a signal; 124 when the time limit hit
  std::string err, out;
};

// A fresh, empty temp folder named after the test and this process.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() /
                 ("attnlab_cli_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Runs `attnlab ARGS` (a shell word list) with `env` assignments before it, for at most
// `seconds` (coreutils timeout: exit 124 when it fires).
inline CliRun run_cli(const std::string& args, const std::string& env = "", int seconds = 600) {
  const auto dir = fresh_dir("io");
  const auto out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = env + " timeout -s KILL " + std::to_string(seconds) + " '" +
                          std::string(ATTNLAB_EXE) + "' " + args + " >'" + out.string() + "' 2>'" +
                          err.string() + "'";
  const int raw = std::system(cmd.c_str());
  CliRun r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  if (r.status == 128 + 9) r.status = 124;  // timeout -s KILL reports 137
  r.err = read_file(err);
  r.out = read_file(out);
  return r;
}

inline std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace attnlab::testutil
