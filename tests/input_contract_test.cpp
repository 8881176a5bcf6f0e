// Every bad input of issue 13, run through the real executable: a one-line error naming the
// thing and what is allowed, exit status 2, within seconds, and nothing half written.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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

// `attnlab ARGS` must exit 2 within 60 s with one line on stderr containing every word.
void expect_rejected(const std::string& args, std::initializer_list<std::string> words,
                     const std::string& env = "") {
  const CliRun r = testutil::run_cli(args, env, 60);
  EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
  EXPECT_EQ(lines(r.err), 1u) << args << "\n" << r.err;
  for (const auto& w : words) EXPECT_NE(r.err.find(w), std::string::npos) << args << "\n" << r.err;
}

// A smoke run into a fresh folder with extra arguments.
std::string smoke(const std::string& claim, const std::string& extra) {
  return "run " + claim + " --profile smoke --out '" + fresh_dir("contract").string() + "' " +
         extra;
}

TEST(InputContract, ModelSpecsAreParsedStrictly) {
  const std::string c = "icl.train_one_layer_gd_step";
  expect_rejected(smoke(c, "--set models=diag0"), {"models", "diag0", "layers"});
  expect_rejected(smoke(c, "--set models=diag1:0"), {"models", "steps"});
  expect_rejected(smoke(c, "--set models=diag1:100:0"), {"models", "seeds"});
  expect_rejected(smoke(c, "--set models=diag1:-5"), {"models", "steps"});
  expect_rejected(smoke(c, "--set models=diag1:abc"), {"models", "diag1:abc"});
  expect_rejected(smoke(c, "--set models=attn2"), {"models", "attn"});
  expect_rejected(smoke(c, "--set models=diag1,"), {"models", "empty"});
}

TEST(InputContract, CrossParameterConstraintsAreCheckedBeforeWork) {
  expect_rejected(smoke("var.arx_causal", "--set patch=1024"), {"patch", "input_len"});
  expect_rejected(smoke("var.arx_causal", "--set input_len=3 --set patch=4"),
                  {"patch", "input_len"});
  expect_rejected(smoke("var.arx_causal", "--set heads=3"), {"heads", "width"});
  expect_rejected(smoke("var.stack_is_mixture_of_var", "--set tokens=15"), {"tokens", "even"});
  expect_rejected(smoke("var.rank_grows_with_depth", "--set lag=12"), {"lag", "tokens"});
  expect_rejected(smoke("var.output_matrix_invertible", "--set diag_min=2 --set diag_max=1"),
                  {"diag_min", "diag_max"});
  expect_rejected(smoke("var.step_speed", "--set input_len=4096 --set width=512 --set layers=8"),
                  {"memory", "input_len"});
}

TEST(InputContract, RangeBoundariesNeverHang) {
  // coef_scale = 0 is inside the range: all-zero coefficients, a valid (if trivial) run.
  const fs::path dir = fresh_dir("coef0");
  CliRun r = testutil::run_cli(
      "synth var --dim 2 --order 1 --length 50 --coef-scale 0 --seed 1 "
      "--out '" +
          (dir / "x.csv").string() + "'",
      "", 60);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "x.csv") && fs::exists(dir / "x.json"));
  r = testutil::run_cli(smoke("var.generator_stationary", "--set coef_scale=0"), "", 300);
  EXPECT_TRUE(r.status == 0 || r.status == 1) << r.err;
  // A rejection sampler with (almost) no chance gives up within seconds, naming the options.
  expect_rejected(
      "synth var --dim 12 --order 4 --length 50 --coef-scale 10 --stability reject "
      "--seed 1 --out '" +
          (dir / "y.csv").string() + "'",
      {"--coef-scale", "reject"});
  EXPECT_FALSE(fs::exists(dir / "y.csv"));
}

TEST(InputContract, NumbersAreStrict) {
  const std::string c = load_all_claims().front().id;
  expect_rejected(smoke(c, "--seed -1"), {"--seed", "18446744073709551615"});
  expect_rejected(smoke(c, "--seed 18446744073709551616"), {"--seed"});
  expect_rejected(smoke(c, "--seed ''"), {"--seed"});
  expect_rejected(smoke(c, "--seed 1e3"), {"--seed"});
  expect_rejected(smoke("var.arx_causal", "--set heads="), {"heads", "empty"});
  expect_rejected(smoke("var.arx_causal", "--set heads=2 --set heads=2"), {"heads", "twice"});
  expect_rejected(smoke("var.arx_causal", "--set weight_std=nan"), {"weight_std"});
  expect_rejected(smoke("var.arx_causal", "--set weight_std=1e999"), {"weight_std"});
  expect_rejected("synth var --dim 2 --order 1 --length 10 --seed -1 --out '" +
                      (fresh_dir("seed") / "x.csv").string() + "'",
                  {"--seed"});
}

TEST(InputContract, OutputPathsAreCheckedBeforeWork) {
  const std::string c = load_all_claims().front().id;
  expect_rejected("run " + c + " --profile smoke --out ''", {"--out"});
  expect_rejected(
      "verify " + c + " --profile smoke --out '" + fresh_dir("vj").string() + "' --json ''",
      {"--json"});
  const fs::path dir = fresh_dir("jsondir");
  const CliRun r = testutil::run_cli("verify " + c + " --profile smoke --out '" +
                                         (dir / "r").string() + "' --json '" + dir.string() + "'",
                                     "", 60);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "r")) << "ran before checking --json";
  // synth: an unwritable sidecar means no CSV either.
  const fs::path s = fresh_dir("sidecar");
  fs::create_directories(s / "x.json");  // a folder where the JSON must go
  expect_rejected(
      "synth var --dim 2 --order 1 --length 10 --seed 1 --out '" + (s / "x.csv").string() + "'",
      {"x.json"});
  EXPECT_FALSE(fs::exists(s / "x.csv"));
  expect_rejected("synth var --dim 2 --order 1 --length 10 --seed 1 --out ''", {"--out"});
}

TEST(InputContract, SynthSizesBeyondMemoryAreRefused) {
  expect_rejected("synth var --dim 10 --order 1 --length 100000000 --seed 1 --out '" +
                      (fresh_dir("mem") / "x.csv").string() + "'",
                  {"--length", "--dim", "memory"});
}

// A claim file derived from a real one, with `edit` applied to its JSON text.
fs::path edited_claims(const std::string& name,
                       const std::function<std::string(std::string)>& edit) {
  const fs::path dir = fresh_dir(name);
  const Claim c = load_claim(claims_dir() / "var" / "arx_causal.json");
  fs::create_directories(dir / "var");
  std::ofstream(dir / "var" / "arx_causal.json") << edit(read_file(c.file));
  return dir;
}

TEST(InputContract, ClaimFilesAreStrict) {
  auto insert_after_brace = [](const std::string& text) {
    return [text](std::string s) { return s.insert(s.find('{') + 1, text); };
  };
  fs::path d = edited_claims("dupkey", insert_after_brace("\"id\": \"var.other\", "));
  expect_rejected("list", {"arx_causal.json", "id", "twice"},
                  "ATTNLAB_CLAIMS_DIR='" + d.string() + "'");
  d = edited_claims("overflow", [](std::string s) {
    const auto at = s.find("\"trials\": ");
    const auto end = s.find_first_of(",}", at);
    return s.replace(at, end - at, "\"trials\": 1e999");
  });
  expect_rejected("list", {"arx_causal.json", "trials"}, "ATTNLAB_CLAIMS_DIR='" + d.string() + "'");
  d = edited_claims("headline", [](std::string s) {
    const auto at = s.find("\"headline\": ");
    const auto end = s.find_first_of(",}", at);
    return s.replace(at, end - at, "\"headline\": \"no_such_metric\"");
  });
  expect_rejected("list", {"arx_causal.json", "headline", "no_such_metric"},
                  "ATTNLAB_CLAIMS_DIR='" + d.string() + "'");
}

TEST(InputContract, MemoryIsCheckedForTheRunNotForLoading) {
  // A claim file is valid on every machine; a profile too big for this one fails when it runs.
  const fs::path dir = fresh_dir("bigprofile");
  fs::create_directories(dir / "var");
  auto j = read_json_file(claims_dir() / "var" / "step_speed.json");
  j["profiles"]["default"].update({{"input_len", 4096}, {"width", 512}, {"layers", 8}});
  write_json_atomic(dir / "var" / "step_speed.json", j);
  const std::string env = "ATTNLAB_CLAIMS_DIR='" + dir.string() + "'";
  EXPECT_EQ(testutil::run_cli("list", env, 60).status, 0);
  expect_rejected("run var.step_speed --profile default --out '" + (dir / "r").string() + "'",
                  {"step_speed.json", "input_len = 4096", "memory"}, env);
  EXPECT_FALSE(fs::exists(dir / "r" / "default"));
}

TEST(InputContract, MessagesNameWhatWasTyped) {
  expect_rejected("frobnicate", {"frobnicate", "allowed"});
  const fs::path dir = fresh_dir("py");
  expect_rejected("report --results '" + dir.string() + "' --python /bin/false", {"/bin/false"});
}

}  // namespace
}  // namespace attnlab
