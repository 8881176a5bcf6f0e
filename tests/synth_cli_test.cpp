// Protects `attnlab synth`: the done-when test (VAR(2) fit of the written CSV recovers the
// sidecar's coefficients within 0.05), the CSV/JSON contents of each generator, and the
// InputError contract for bad options (nothing written).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "analysis/var_fit.h"
#include "core/error.h"
#include "core/io.h"
#include "experiments/cli/cmd_synth.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("attnlab_synth_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
};

Csv read_csv(const fs::path& p) {
  Csv c;
  std::istringstream in(read_file(p));
  std::string line;
  std::getline(in, line);
  std::stringstream hs(line);
  for (std::string cell; std::getline(hs, cell, ',');) c.header.push_back(cell);
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::vector<double> row;
    for (std::string cell; std::getline(ls, cell, ',');) row.push_back(std::stod(cell));
    c.rows.push_back(row);
  }
  return c;
}

TEST(SynthCli, VarCsvFitRecoversSidecarCoefficients) {
  const fs::path dir = fresh_dir("var");
  const fs::path csv = dir / "x.csv";
  run_synth_command_line("synth var --dim 3 --order 2 --length 5000 --seed 7 --out '" +
                         csv.string() + "'");
  const Csv data = read_csv(csv);
  ASSERT_EQ(data.header, (std::vector<std::string>{"series", "t", "x1", "x2", "x3"}));
  ASSERT_EQ(data.rows.size(), 5000u);
  Eigen::MatrixXd x(5000, 3);
  for (int t = 0; t < 5000; ++t)
    for (int j = 0; j < 3; ++j)
      x(t, j) = data.rows[static_cast<std::size_t>(t)][static_cast<std::size_t>(j + 2)];
  const auto truth = read_json_file(dir / "x.json");
  ASSERT_EQ(truth["processes"].size(), 1u);
  const auto& A = truth["processes"][0]["A"];
  ASSERT_EQ(A.size(), 2u);
  const VarFit fit = fit_var_ls(x, 2);
  double worst = 0;
  for (int l = 0; l < 2; ++l)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c)
        worst = std::max(
            worst, std::abs(fit.A[static_cast<std::size_t>(l)](r, c) - A[l][r][c].get<double>()));
  EXPECT_LE(worst, 0.05) << "seed 7";
  EXPECT_LE(truth["processes"][0]["spectral_radius"].get<double>(), 0.95 + 1e-12);
  EXPECT_NEAR(truth["processes"][0]["noise_cov"][0][0].get<double>(), 1.0, 1e-15);
}

TEST(SynthCli, SsmAndRegressionWriteCsvAndGroundTruth) {
  const fs::path dir = fresh_dir("ssm");
  run_synth_command_line(
      "synth ssm --variant B --gamma 0.5 --dim 4 --n 50 --sigma 0 --ood --seed 3 --out '" +
      (dir / "s.csv").string() + "'");
  const Csv s = read_csv(dir / "s.csv");
  ASSERT_EQ(s.header.size(), 6u);  // i, x1..x4, y
  const auto st = read_json_file(dir / "s.json");
  EXPECT_EQ(st["variant"], "B");
  EXPECT_TRUE(st["ood"].get<bool>());
  for (const auto& row : s.rows) {
    double y = 0;
    for (int k = 0; k < 4; ++k)
      y += st["c"][k].get<double>() * row[static_cast<std::size_t>(k + 1)];
    EXPECT_NEAR(row[5], y, 1e-12);    // sigma = 0: y = <c, x>
    EXPECT_LT(row[4] * row[5], 0.0);  // sign-inconsistent
  }
  run_synth_command_line(
      "synth regression --dim 3 --n 4 --tasks 6 --sigma-set 1,3 --seed 1 --out '" +
      (dir / "r.csv").string() + "'");
  const Csv r = read_csv(dir / "r.csv");
  ASSERT_EQ(r.rows.size(), 6u * 5u);
  const auto rt = read_json_file(dir / "r.json");
  ASSERT_EQ(rt["task_truth"].size(), 6u);
  for (const auto& row : r.rows) {
    const auto& t = rt["task_truth"][static_cast<std::size_t>(row[0])];
    double wx = 0;
    for (int k = 0; k < 3; ++k)
      wx += t["w"][k].get<double>() * row[static_cast<std::size_t>(3 + k)];
    const double sigma = t["sigma"].get<double>();
    EXPECT_TRUE(sigma == 1.0 || sigma == 3.0);
    if (row[2] == 1.0) {
      EXPECT_NEAR(row[6], wx, 1e-12);  // query: noise-free target
    }
  }
}

TEST(SynthCli, BadOptionsThrowInputErrorAndWriteNothing) {
  const fs::path dir = fresh_dir("bad");
  const std::string out = " --out '" + (dir / "x.csv").string() + "'";
  auto expect_error = [&](const std::string& args, const std::string& needle) {
    try {
      run_synth_command_line(args + out);
      ADD_FAILURE() << "no error for: " << args;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  };
  expect_error("synth var --dim -3 --order 2", "--dim must be an integer in [1, 100]");
  expect_error("synth var --order 0", "--order");
  expect_error("synth var --radius-bound 1", "--radius-bound");
  expect_error("synth var --frobnicate 3", "--frobnicate");
  expect_error("synth var --preset samovar-train --dim 3", "--dim");
  expect_error("synth ssm --variant C", "--variant");
  expect_error("synth ssm --dim 1", "--dim");
  expect_error("synth ssm --variant B --dim 2", "--dim >= 3");
  expect_error("synth regression --sigma-set 1,x", "--sigma-set");
  expect_error("synth regression --sigma-max -1", "--sigma-max");
  EXPECT_TRUE(fs::is_empty(dir));
  std::ofstream(dir / "a_file") << "x";
  EXPECT_THROW(run_synth_command_line("synth var --seed 1 --out '" +
                                      (dir / "a_file" / "sub" / "x.csv").string() + "'"),
               InputError);
}

TEST(SynthCli, SamovarPresetReportsExplosiveDraws) {
  const fs::path dir = fresh_dir("preset");
  run_synth_command_line("synth var --preset samovar-train --series 300 --seed 2 --out '" +
                         (dir / "p.csv").string() + "'");
  const auto t = read_json_file(dir / "p.json");
  ASSERT_EQ(t["processes"].size(), 300u);
  int explosive = 0;
  for (const auto& p : t["processes"]) explosive += p["explosive"].get<bool>();
  EXPECT_EQ(explosive, t["explosive_count"].get<int>());
  EXPECT_EQ(read_csv(dir / "p.csv").rows.size(), 300u * 65u);
}

}  // namespace
}  // namespace attnlab
