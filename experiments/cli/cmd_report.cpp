// `attnlab report`: figures and results/REPORT.md from the result files, via matplotlib.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/resources.h"
#include "experiments/cli/commands.h"

namespace attnlab {

void add_report_command(CLI::App& app) {
  struct Args {
    std::string results = "results";
    std::string python = "/usr/bin/python3";
    std::string readme;  // a README whose claims table to refresh; empty: none
    bool force = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "report", "render figures (results/figures) and results/REPORT.md from result files");
  cmd->add_option("--results", a->results, "results folder to read and write");
  cmd->add_option("--python", a->python, "a Python 3 with matplotlib and numpy");
  cmd->add_option("--readme", a->readme,
                  "also refresh the claims table of this README (between its claims-table "
                  "markers); report writes nothing else outside --results");
  cmd->add_flag("--force", a->force,
                "redraw every figure (by default only those whose result or plot code changed)");
  cmd->callback([a] {
    namespace fs = std::filesystem;
    const fs::path script = resource_dir() / "analysis" / "plots" / "report.py";
    if (!fs::is_directory(a->results)) {
      throw InputError("--results '" + a->results +
                       "' is not a folder (run `attnlab verify` first)");
    }
    if (::access(a->python.c_str(), X_OK) != 0) {
      throw InputError("--python '" + a->python +
                       "' not found: install python3-matplotlib and python3-numpy (Debian)");
    }
    std::vector<std::string> args = {a->python, script.string(), "--results", a->results};
    if (a->force) args.push_back("--force");
    if (!a->readme.empty()) {
      if (!fs::is_regular_file(a->readme))
        throw InputError("--readme '" + a->readme + "' is not a file");
      args.push_back("--readme");
      args.push_back(a->readme);
    }
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) < 0)
      throw InputError("--python '" + a->python + "' could not be started");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      const std::string how = WIFEXITED(status)
                                  ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                  : "was killed by signal " + std::to_string(WTERMSIG(status));
      throw InputError("--python '" + a->python + "' " + how + " running " + script.string() +
                       " (it needs python3-matplotlib and python3-numpy; its error is above)");
    }
  });
}

}  // namespace attnlab
