// The executable's contract for bad input: a one-line error naming the problem, exit status 2,
// and no partial file left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/io.h"
#include "experiments/claim.h"
#include "tests/cli_util.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

using testutil::CliRun;
using testutil::fresh_dir;
using testutil::lines;

CliRun run(const std::string& args, const std::string& env = "") {
  return testutil::run_cli(args, env);
}

// A path whose parent cannot be created, even by root: it goes through a regular file.
fs::path unwritable(const std::string& leaf) {
  const fs::path d = fresh_dir("unwritable");
  std::ofstream(d / "a_file") << "x";
  return d / "a_file" / "sub" / leaf;
}

std::string first_claim() { return load_all_claims().front().id; }

TEST(Cli, UnknownProfileIsExit2WithOneLine) {
  const CliRun r = run("verify --profile nope");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("profile"), std::string::npos) << r.err;
}

TEST(Cli, UnknownClaimAndBadThreadsAreExit2) {
  CliRun r = run("run no.such_claim --profile smoke");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("no.such_claim"), std::string::npos) << r.err;
  r = run("run " + first_claim() + " --threads 0");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("threads"), std::string::npos) << r.err;
  r = run("list", "ATTNLAB_THREADS=zero");
  EXPECT_EQ(r.status, 0) << "list does not start threads: " << r.err;
  r = run("run " + first_claim() + " --profile smoke --out " + fresh_dir("env").string(),
          "ATTNLAB_THREADS=zero");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("ATTNLAB_THREADS"), std::string::npos) << r.err;
}

TEST(Cli, UnwritableOutIsExit2AndWritesNothing) {
  const fs::path out = unwritable("results");
  const CliRun r = run("run " + first_claim() + " --profile smoke --out '" + out.string() + "'");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(out.parent_path().parent_path().filename().string()), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, UnwritableVerifyJsonFailsBeforeRunning) {
  const fs::path json = unwritable("v.json");
  const CliRun r = run("verify " + first_claim() + " --profile smoke --out " +
                       fresh_dir("vj").string() + " --json '" + json.string() + "'");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(r.out.find("claim"), std::string::npos) << "ran before failing: " << r.out;
}

TEST(Cli, MisspelledConfigKeyIsExit2NamingFileAndKey) {
  const fs::path dir = fresh_dir("claims");
  const auto claims = load_all_claims();
  const Claim& c = claims.front();
  fs::create_directories(dir / c.paper);
  auto j = read_json_file(c.file);
  auto& smoke = j["profiles"]["smoke"];
  const std::string key = smoke.begin().key();
  smoke[key + "_typo"] = smoke[key];
  smoke.erase(key);
  write_json_atomic(dir / c.paper / "bad.json", j);
  const CliRun r = run("list", "ATTNLAB_CLAIMS_DIR='" + dir.string() + "'");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(key + "_typo"), std::string::npos) << r.err;
}

TEST(Cli, NegativeDimensionIsExit2AndWritesNothing) {
  const fs::path dir = fresh_dir("synth");
  const CliRun r = run("synth var --dim -3 --order 2 --length 100 --seed 1 --out '" +
                       (dir / "x.csv").string() + "'");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("dim"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Cli, VerifySmokeOfOneClaimExits0AndWritesJson) {
  const fs::path dir = fresh_dir("verify");
  const CliRun r = run("verify " + first_claim() + " --profile smoke --out '" + dir.string() +
                       "' --json '" + (dir / "v.json").string() + "'");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const auto j = read_json_file(dir / "v.json");
  EXPECT_EQ(j["profile"], "smoke");
  EXPECT_TRUE(j["ok"].get<bool>());
  ASSERT_EQ(j["claims"].size(), 1u);
  for (const char* key : {"id", "verdict", "expected", "ok", "seconds", "metrics"}) {
    EXPECT_TRUE(j["claims"][0].contains(key)) << key;
  }
}

}  // namespace
}  // namespace attnlab
