// Crashes and full disks leave old-or-new, never partial, and no litter: kill -9 at spread-out
// points of a `run` and of a large `synth`, and a tiny tmpfs (root only) that fills mid-write.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/io.h"
#include "tests/cli_util.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Starts `attnlab args...` with stdout and stderr discarded; returns its pid.
pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::string exe = ATTNLAB_EXE;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr))
      ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

// Seconds one uninterrupted run of `args` takes (it must succeed).
double timed_run(const std::vector<std::string>& args) {
  const auto t0 = Clock::now();
  EXPECT_EQ(wait_status(spawn(args)), 0);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs `args` and kills it with SIGKILL after `seconds` (or lets it finish first).
void kill_after(const std::vector<std::string>& args, double seconds) {
  const pid_t pid = spawn(args);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  ::kill(pid, SIGKILL);
  wait_status(pid);
}

std::vector<fs::path> temp_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path());
  return out;
}

// Kill points spread over one run's duration, from just after start to just before the end.
std::vector<double> kill_points(double duration) {
  std::vector<double> t;
  for (double f : {0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.97}) t.push_back(f * duration);
  return t;
}

TEST(Kill, SynthLeavesOldOrNewPairNeverPartial) {
  const fs::path ref = testutil::fresh_dir("kill_ref"), dir = testutil::fresh_dir("kill_synth");
  auto args = [](const fs::path& out, const char* seed) {
    return std::vector<std::string>{"synth",    "var",    "--dim",  "8",  "--order", "2",
                                    "--length", "150000", "--seed", seed, "--out",   out.string()};
  };
  // The two complete pairs a killed run may leave: old (seed 1) and new (seed 2).
  timed_run(args(ref / "old.csv", "1"));
  const double duration = timed_run(args(ref / "new.csv", "2"));
  const std::string old_csv = read_file(ref / "old.csv"), new_csv = read_file(ref / "new.csv");
  auto sidecar = [](std::string text, const char* name) {  // the JSON names its own CSV
    const std::string from = "\"" + std::string(name) + ".csv\"";
    return text.replace(text.find(from), from.size(), "\"x.csv\"");
  };
  const std::string old_json = sidecar(read_file(ref / "old.json"), "old");
  const std::string new_json = sidecar(read_file(ref / "new.json"), "new");
  for (double t : kill_points(duration)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    ASSERT_EQ(wait_status(spawn(args(dir / "x.csv", "1"))), 0);
    kill_after(args(dir / "x.csv", "2"), t);
    const bool csv = fs::exists(dir / "x.csv"), json = fs::exists(dir / "x.json");
    if (csv) {  // a data file is always described by the sidecar beside it
      ASSERT_TRUE(json) << "CSV without its JSON after a kill at " << t << " s";
      const std::string c = read_file(dir / "x.csv"), j = read_file(dir / "x.json");
      EXPECT_TRUE((c == old_csv && j == old_json) || (c == new_csv && j == new_json))
          << "kill at " << t << " s left a mixed or partial pair";
    } else if (json) {
      const std::string j = read_file(dir / "x.json");
      EXPECT_TRUE(j == old_json || j == new_json) << "partial JSON after a kill at " << t << " s";
    }
    // The next run into the folder removes the dead run's temp files.
    ASSERT_EQ(wait_status(spawn(args(dir / "x.csv", "2"))), 0);
    EXPECT_TRUE(temp_files(dir).empty()) << temp_files(dir).front();
    EXPECT_EQ(read_file(dir / "x.csv"), new_csv);
  }
}

TEST(Kill, RunLeavesOldOrNewResultNeverPartial) {
  const fs::path dir = testutil::fresh_dir("kill_run");
  const std::vector<std::string> args = {
      "run", "var.generator_stationary", "--profile", "smoke", "--out", dir.string()};
  const double duration = timed_run(args);
  const fs::path result = dir / "smoke" / "var.generator_stationary" / "result.json";
  ASSERT_TRUE(fs::exists(result));
  for (double t : kill_points(duration)) {
    kill_after(args, t);
    // Old or new: a complete result either way (each run rewrites it whole).
    EXPECT_NO_THROW(read_json_file(result)) << "kill at " << t << " s";
  }
  ASSERT_EQ(wait_status(spawn(args)), 0);
  EXPECT_TRUE(temp_files(dir).empty()) << temp_files(dir).front();
}

// A 1 MiB tmpfs: writes fail with ENOSPC part-way through.
class FullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    dir_ = testutil::fresh_dir("fulldisk");
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=1m") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs here";
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount(dir_.c_str());
  }
  fs::path dir_;
  bool mounted_ = false;
};

TEST_F(FullDisk, SynthFailsWithOneLineAndLeavesNothing) {
  const auto r = testutil::run_cli("synth var --dim 8 --order 2 --length 20000 --seed 1 --out '" +
                                       (dir_ / "x.csv").string() + "'",
                                   "", 60);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(testutil::lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("No space left"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(dir_)) << "left " << fs::directory_iterator(dir_)->path();
}

TEST_F(FullDisk, SynthKeepsTheOldPairWhenTheNewOneDoesNotFit) {
  const std::string out = "--out '" + (dir_ / "x.csv").string() + "'";
  ASSERT_EQ(testutil::run_cli("synth var --dim 2 --order 1 --length 100 --seed 1 " + out).status,
            0);
  const std::string old_csv = read_file(dir_ / "x.csv"), old_json = read_file(dir_ / "x.json");
  const auto r = testutil::run_cli("synth var --dim 8 --order 2 --length 20000 --seed 1 " + out);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(read_file(dir_ / "x.csv"), old_csv);
  EXPECT_EQ(read_file(dir_ / "x.json"), old_json);
  EXPECT_TRUE(temp_files(dir_).empty());
}

TEST_F(FullDisk, RunFailsWithOneLineAndWritesNoPartialResult) {
  {  // fill the disk: the result cannot fit
    std::ofstream filler(dir_ / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  const auto r = testutil::run_cli(
      "run var.output_matrix_invertible --profile smoke --out '" + dir_.string() + "'", "", 120);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(testutil::lines(r.err), 1u) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "smoke" / "var.output_matrix_invertible" / "result.json"));
  EXPECT_TRUE(temp_files(dir_).empty());
}

}  // namespace
}  // namespace attnlab
