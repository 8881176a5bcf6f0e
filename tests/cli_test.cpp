// The executable's contract for bad input: a one-line error naming the problem, exit status 2,
// and no partial file left behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/io.h"
#include "experiments/claim.h"
#include "experiments/registry.h"
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

// A user's own claim: a built-in claim file rewritten to paper `mine`, in a folder of any layout.
nlohmann::json own_claim(const std::string& id, const std::string& citation) {
  auto j = read_json_file(claims_dir() / "var" / "path_expansion.json");
  j["id"] = id;
  j["paper"] = "mine";
  j["basis"] = "project";
  if (!citation.empty()) j["citation"] = citation;
  return j;
}

TEST(Cli, ClaimsDirAddsOwnClaimsBesideTheBuiltInOnes) {
  const fs::path dir = fresh_dir("own_claims");
  write_json_atomic(dir / "deep" / "a.json", own_claim("mine.paths", "Me. Notes. 2026"));
  CliRun r = run("--claims-dir '" + dir.string() + "' list");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("mine.paths"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(first_claim()), std::string::npos) << "built-in claims still listed";
  // After the command too, and the claim runs to its verdict.
  const fs::path out = fresh_dir("own_claims_out");
  r = run("run mine.paths --profile smoke --claims-dir '" + dir.string() + "' --out '" +
          out.string() + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_json_file(out / "smoke" / "mine.paths" / "result.json")["verdict"], "holds");
  // Without the folder the claim does not exist.
  EXPECT_EQ(run("run mine.paths --profile smoke --out '" + out.string() + "'").status, 2);
}

TEST(Cli, OwnClaimsNeedACitationAndAFreshIdAndStayOutOfTheBuiltInFolder) {
  const fs::path dir = fresh_dir("own_bad");
  write_json_atomic(dir / "a.json", own_claim("mine.paths", ""));
  CliRun r = run("--claims-dir '" + dir.string() + "' list");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("citation"), std::string::npos) << r.err;

  auto dup = read_json_file(claims_dir() / "var" / "path_expansion.json");
  write_json_atomic(dir / "a.json", dup);
  r = run("--claims-dir '" + dir.string() + "' list");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("duplicate claim id 'var.path_expansion'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("path_expansion.json"), std::string::npos) << "names both files: " << r.err;

  // Among the built-in claims (ATTNLAB_CLAIMS_DIR), a paper of one's own is refused.
  const fs::path builtin = fresh_dir("own_builtin");
  write_json_atomic(builtin / "mine" / "a.json", own_claim("mine.paths", "Me. Notes. 2026"));
  r = run("list", "ATTNLAB_CLAIMS_DIR='" + builtin.string() + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--claims-dir"), std::string::npos) << r.err;

  r = run("--claims-dir '" + (dir / "missing").string() + "' list");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
}

TEST(Cli, SlurmScriptPassesTheClaimsDirToItsShards) {
  const fs::path dir = fresh_dir("own_slurm");
  write_json_atomic(dir / "claims" / "a.json", own_claim("mine.paths", "Me. Notes. 2026"));
  const std::string own = "--claims-dir '" + (dir / "claims").string() + "' ";
  const std::string plan = (dir / "plan.jsonl").string();
  ASSERT_EQ(run(own + "plan mine.paths --profile smoke --results '" + (dir / "res").string() +
                "' --out '" + plan + "'")
                .status,
            0);
  const std::string job = (dir / "job.sbatch").string();
  const CliRun r = run(own + "slurm '" + plan + "' --per-task 1 --out '" + job + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(job);
  const std::string script((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(script.find("--claims-dir '" + (dir / "claims").string() + "' run --plan"),
            std::string::npos)
      << script;
}

TEST(Cli, RunsWithSetOrSeedKeepTheirOwnFolderAndCompare) {
  const fs::path dir = fresh_dir("runs");
  const std::string here = "cd '" + dir.string() + "' &&";  // the default --out: ./results
  const std::string claim = "var.path_expansion";
  ASSERT_EQ(run("run " + claim + " --profile smoke", here).status, 0);
  const fs::path plain = dir / "results" / "smoke" / claim / "result.json";
  const std::string before = read_file(plain);

  CliRun r = run("run " + claim + " --profile smoke --set trials=3", here);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run("run " + claim + " --profile smoke --seed 7 --name s7", here);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(plain), before) << "a run with --set or --seed replaced the plain result";
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(dir / "results" / "runs"))
    ids.push_back(e.path().filename().string());
  ASSERT_EQ(ids.size(), 2u);
  const std::string auto_id = ids[0] == "s7" ? ids[1] : ids[0];
  const auto meta = read_json_file(dir / "results" / "runs" / auto_id / "run.json");
  EXPECT_EQ(meta["overrides"], nlohmann::json::array({"trials=3"}));
  EXPECT_TRUE(fs::exists(dir / "results" / "runs" / "s7" / "smoke" / claim / "result.json"));

  r = run("runs", here);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("s7  profile smoke  seed 7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--set trials=3"), std::string::npos) << r.out;

  r = run("compare committed " + auto_id, here);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("configurations differ"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("paths_enumerated"), std::string::npos) << "trials 2 -> 3: " << r.out;
  EXPECT_EQ(run("compare committed nosuchrun", here).status, 2);

  r = run("export --csv metrics.csv", here);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string table = read_file(dir / "metrics.csv");
  EXPECT_EQ(table.rfind("source,claim,profile,seed,commit,dirty,config_hash,command,verdict,"
                        "metric,value\n",
                        0),
            0u);
  EXPECT_NE(table.find("\ns7," + claim + ",smoke,7,"), std::string::npos) << table;
  EXPECT_NE(table.find("\ncommitted," + claim + ",smoke,0,"), std::string::npos) << table;

  r = run("run " + claim + " --profile smoke --name 'bad/name'", here);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--name"), std::string::npos) << r.err;
}

TEST(Cli, DescribeNamesParametersMetricsAndClaimsOfAKind) {
  CliRun r = run("describe samovar_path_expansion");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s : {"max_lag: an integer in [0, 10]; required", "paths_enumerated",
                        "claims on it: var.path_expansion"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " in " << r.out;
  r = run("describe var.path_expansion");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("code: experiments/var/exact_kinds.cpp:run_path_expansion"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("why: "), std::string::npos) << r.out;
  r = run("describe no_such_thing");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
}

TEST(Cli, NewClaimWritesAFileThatVerifies) {
  const fs::path dir = fresh_dir("new_claim");
  const std::string file = (dir / "c" / "paths.json").string();
  fs::create_directories(dir / "c");
  CliRun r = run("new-claim samovar_path_expansion --id mine.paths --out '" + file + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run("new-claim samovar_path_expansion --out '" + file + "'").status, 2)
      << "an existing file is not replaced";
  r = run("--claims-dir '" + (dir / "c").string() + "' verify mine.paths --profile smoke --out '" +
          (dir / "out").string() + "'");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(run("new-claim no_such_kind --out '" + (dir / "x.json").string() + "'").status, 2);
  // Every kind: the file written is accepted beside the built-in claims.
  fs::create_directories(dir / "all");
  for (const auto& k : experiment_kinds())
    ASSERT_EQ(
        run("new-claim " + k.name + " --out '" + (dir / "all" / (k.name + ".json")).string() + "'")
            .status,
        0)
        << k.name;
  r = run("--claims-dir '" + (dir / "all").string() + "' list");
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(Cli, InstalledBinaryRunsFromAnyFolderOnItsOwnFiles) {
  const fs::path dir = fresh_dir("install");
  const fs::path build = fs::path(ATTNLAB_EXE).parent_path();
  const std::string install = "cmake --install '" + build.string() + "' --prefix '" +
                              (dir / "prefix").string() + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(install.c_str()), 0) << install;
  const fs::path exe = dir / "prefix" / "bin" / "attnlab";
  const fs::path share = dir / "prefix" / "share" / "attnlab";
  ASSERT_TRUE(fs::exists(share / "experiments" / "claims" / "var" / "path_expansion.json"));
  ASSERT_TRUE(fs::exists(share / "data" / "ett" / "ETTh1.csv"));
  ASSERT_TRUE(fs::exists(share / "analysis" / "plots" / "report.py"));
  fs::create_directories(dir / "elsewhere");
  const auto installed = [&](const std::string& args) {
    CliRun r;
    const std::string cmd = "cd '" + (dir / "elsewhere").string() +
                            "' && env -u ATTNLAB_CLAIMS_DIR '" + exe.string() + "' " + args +
                            " >out.txt 2>err.txt";
    const int raw = std::system(cmd.c_str());
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = read_file(dir / "elsewhere" / "out.txt");
    r.err = read_file(dir / "elsewhere" / "err.txt");
    return r;
  };
  // The claim files it reads are the installed ones, not the source tree's.
  CliRun r = installed("describe var.path_expansion");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("file: " + (share / "experiments" / "claims").string()), std::string::npos)
      << r.out;
  // A claim on the installed ETT data runs; results go under the current folder only.
  r = installed("verify curse.ett_linear_vs_attention --profile smoke");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(dir / "elsewhere" / "results" / "smoke" / "curse.ett_linear_vs_attention" /
                         "result.json"));
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
