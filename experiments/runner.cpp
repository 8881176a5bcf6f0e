#include "experiments/runner.h"

#include <unistd.h>

#include <Eigen/Core>
#include <array>
#include <boost/version.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "core/error.h"
#include "core/io.h"
#include "core/thread_pool.h"

namespace attnlab {
namespace {

// Output of a shell command (first line), or "" when it fails.
std::string command_line(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) return "";
  std::array<char, 512> buf{};
  std::string out;
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe.get())) out += buf.data();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise.
class ProgressSink {
 public:
  ProgressSink(std::string id, bool enabled)
      : id_(std::move(id)),
        enabled_(enabled),
        tty_(::isatty(2) != 0),
        start_(std::chrono::steady_clock::now()),
        last_(start_) {}
  void update(double fraction, std::string_view what) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    if (since < (tty_ ? 0.1 : 10.0)) return;
    last_ = now;
    fraction = std::clamp(fraction, 0.0, 1.0);
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%5.1f%% %6.1fs", 100 * fraction, elapsed);
    if (tty_) {
      const int width = 24, filled = static_cast<int>(fraction * width);
      std::cerr << "\r" << id_ << " [" << std::string(static_cast<std::size_t>(filled), '#')
                << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << buf << " "
                << what << "\033[K" << std::flush;
      drawn_ = true;
    } else {
      std::cerr << id_ << ": " << buf << " " << what << "\n";
    }
  }
  ~ProgressSink() {
    if (drawn_) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  std::string id_;
  bool enabled_, tty_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

nlohmann::json provenance() {
  const std::string src = ATTNLAB_SOURCE_DIR;
  const std::string git = "git -C '" + src + "' ";
  const std::string commit = command_line(git + "rev-parse HEAD 2>/dev/null");
  const std::string dirty =
      command_line(git + "status --porcelain --untracked-files=no 2>/dev/null | head -c1");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return {
      {"git_commit", commit.empty() ? "unknown" : commit},
      {"git_dirty", !commit.empty() && !dirty.empty()},
      {"compiler", std::string("g++ ") + __VERSION__},
      {"build_type", ATTNLAB_BUILD_TYPE},
      {"eigen", std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                    "." + std::to_string(EIGEN_MINOR_VERSION)},
      {"boost", std::to_string(BOOST_VERSION / 100000) + "." +
                    std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                    std::to_string(BOOST_VERSION % 100)},
      {"nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_PATCH)},
      {"cpu", cpu_model()},
      {"threads", num_threads()},
      {"host", host},
  };
}

ClaimResult run_claim(const Claim& claim, const RunOptions& options) {
  if (!claim.has_profile(options.profile)) {
    throw InputError("claim '" + claim.id + "' has no profile '" + options.profile +
                     "' (it has: smoke, default" + (claim.has_profile("full") ? ", full" : "") +
                     ")");
  }
  const Params& params = claim.profiles.at(options.profile);
  const std::filesystem::path path = options.out_dir / options.profile / claim.id / "result.json";
  if (options.write) ensure_writable_dir(path.parent_path());

  ProgressSink sink(claim.id, options.progress);
  RunContext ctx{params, options.seed, options.profile,
                 [&](double f, std::string_view what) { sink.update(f, what); }};
  const auto t0 = std::chrono::steady_clock::now();
  Outcome outcome = claim.kind().run(ctx);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::json checks = nlohmann::json::array();
  bool all_pass = true;
  for (const auto& c : claim.checks) {
    if (!outcome.has(c.metric)) {
      throw std::logic_error(claim.file.string() + ": check metric '" + c.metric +
                             "' is not computed by experiment '" + claim.experiment + "'");
    }
    const double v = outcome.get(c.metric);
    const bool pass = c.passes(v, options.profile);
    all_pass = all_pass && pass;
    checks.push_back({{"metric", c.metric},
                      {"op", c.op},
                      {"threshold", c.threshold.at(options.profile)},
                      {"value", v},
                      {"pass", pass},
                      {"why", c.why}});
  }
  ClaimResult r;
  r.id = claim.id;
  r.expected = claim.expected;
  r.verdict = claim.expected == "measured" ? "measured" : (all_pass ? "holds" : "fails");
  r.ok = r.verdict == r.expected;
  r.seconds = seconds;
  r.headline = claim.headline;
  if (!r.headline.empty() && outcome.has(r.headline)) r.headline_value = outcome.get(r.headline);

  nlohmann::json prov = provenance();
  prov["seed"] = options.seed;
  prov["wall_seconds"] = seconds;
  prov["command"] = "attnlab run " + claim.id + " --profile " + options.profile + " --seed " +
                    std::to_string(options.seed);
  r.json = {
      {"claim",
       {{"id", claim.id},
        {"paper", claim.paper},
        {"statement", claim.statement},
        {"source", claim.source},
        {"experiment", claim.experiment},
        {"expected", claim.expected},
        {"reason", claim.reason},
        {"headline", claim.headline}}},
      {"profile", options.profile},
      {"verdict", r.verdict},
      {"ok", r.ok},
      {"seconds", seconds},
      {"config", params.json()},
      {"metrics", outcome.metrics()},
      {"checks", checks},
      {"per_seed", outcome.per_seed()},
      {"timings", outcome.timings()},
      {"data", outcome.data},
      {"provenance", prov},
  };
  if (options.write) {
    write_json_atomic(path, r.json);
    r.path = path;
  }
  return r;
}

}  // namespace attnlab
