// The ETT data layer (synth/ett.h), SHA-256 (core/sha256.h) and the closed-form forecasters
// (analysis/forecast_baselines.h).
#include "synth/ett.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "analysis/forecast_baselines.h"
#include "core/error.h"
#include "core/io.h"
#include "core/rng.h"
#include "core/sha256.h"

namespace attnlab {
namespace {

namespace fs = std::filesystem;

const fs::path kDataDir = fs::path(ATTNLAB_SOURCE_DIR) / "data" / "ett";

TEST(Sha256, KnownDigests) {  // FIPS 180-4 examples and the one-million-'a' vector
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundary (55, 56, 64 bytes) against a second path: the digest of
  // a string must not depend on where it sits in memory.
  for (std::size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
    const std::string a(n, 'x');
    std::string shifted = "y" + a;
    EXPECT_EQ(sha256_hex(a), sha256_hex(std::string_view(shifted).substr(1))) << n;
  }
  EXPECT_EQ(sha256_hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

TEST(Ett, BothFilesLoadWithTheirDigestsAndLayout) {
  for (const auto& name : ett::dataset_names()) {
    const ett::Series s = ett::load(kDataDir, name);
    EXPECT_EQ(s.values.rows(), ett::kRows);
    EXPECT_EQ(s.values.cols(), ett::kColumns);
    EXPECT_EQ(s.columns.back(), "OT");
  }
  const ett::Series h1 = ett::load(kDataDir, "ETTh1");
  EXPECT_DOUBLE_EQ(h1.values(0, 0), 5.827000141143799);  // first row, HUFL
  EXPECT_DOUBLE_EQ(h1.values(0, 6), 30.5310001373291);   // first row, OT
}

TEST(Ett, ScalerMatchesIndependentParityValues) {
  // Means and population stds of rows [0, 8640), computed independently of this code
  // (the spec's parity values, 6 decimals).
  const double h1_mean[] = {7.937742, 2.021039, 5.079771, 0.746186, 2.781762, 0.788453, 17.128262};
  const double h1_std[] = {5.812749, 2.090105, 5.518794, 1.926379, 1.023523, 0.630237, 9.176491};
  const double h2_mean[] = {41.536835, 12.273453, 46.609773, 10.526153,
                            1.186992,  -2.373218, 26.872023};
  const double h2_std[] = {10.448841, 4.587113, 16.858190, 3.018606, 4.641011, 8.460911, 11.584719};
  const ett::Scaler s1 = ett::fit_scaler(ett::load(kDataDir, "ETTh1").values);
  const ett::Scaler s2 = ett::fit_scaler(ett::load(kDataDir, "ETTh2").values);
  for (int c = 0; c < ett::kColumns; ++c) {
    EXPECT_NEAR(s1.mean[c], h1_mean[c], 5e-7) << c;
    EXPECT_NEAR(s1.std[c], h1_std[c], 5e-7) << c;
    EXPECT_NEAR(s2.mean[c], h2_mean[c], 5e-7) << c;
    EXPECT_NEAR(s2.std[c], h2_std[c], 5e-7) << c;
  }
  const Eigen::MatrixXd z = ett::standardise(ett::load(kDataDir, "ETTh1").values, s1);
  const Eigen::MatrixXd train = z.topRows(8640);
  EXPECT_LT(train.colwise().mean().cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((train.array().square().colwise().mean() - 1).abs().maxCoeff(), 1e-12);
}

TEST(Ett, SplitBordersAndWindowCounts) {
  // The Time-Series-Library counts: val/test windows do not depend on L.
  for (const auto& [H, n] : {std::pair{96, 2785}, {192, 2689}, {336, 2545}, {720, 2161}}) {
    for (int L : {336, 1024, 4096}) {
      EXPECT_EQ(ett::window_count(ett::Split::Val, L, H), n) << L << "/" << H;
      EXPECT_EQ(ett::window_count(ett::Split::Test, L, H), n) << L << "/" << H;
    }
  }
  EXPECT_EQ(ett::window_count(ett::Split::Train, 1024, 96), 7521);
  EXPECT_EQ(ett::split_rows(ett::Split::Val, 336).begin, 8640 - 336);
  EXPECT_EQ(ett::split_rows(ett::Split::Test, 336).end, 14400);
  // The last test window's target ends at row 14400 exactly.
  const int last =
      ett::window_start(ett::Split::Test, 512, ett::window_count(ett::Split::Test, 512, 96) - 1);
  EXPECT_EQ(last + 512 + 96, 14400);
  EXPECT_THROW(ett::split_rows(ett::Split::Train, 0), InputError);
  EXPECT_THROW(ett::window_count(ett::Split::Train, 8000, 720), InputError);
}

// The error of `f`, as one line, or "" when it does not throw InputError.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Ett, AlteredMissingOrMalformedFilesAreRefusedWithOneLine) {
  const fs::path dir = fs::temp_directory_path() / ("attnlab_ett_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string text = read_file(kDataDir / "ETTh1.csv");
  text[100] = text[100] == '1' ? '2' : '1';  // one digit of the first rows
  write_file_atomic(dir / "ETTh1.csv", text);
  const std::string altered = error_of([&] { ett::load(dir, "ETTh1"); });
  EXPECT_NE(altered.find("ETTh1.csv is not the published ETTh1.csv: sha256"), std::string::npos)
      << altered;
  const std::string missing = error_of([&] { ett::load(dir, "ETTh2"); });
  EXPECT_NE(missing.find("ETTh2.csv is missing"), std::string::npos) << missing;
  const std::string unknown = error_of([&] { ett::load(dir, "ETTm1"); });
  EXPECT_NE(unknown.find("'ETTm1' is unknown (known: ETTh1, ETTh2)"), std::string::npos) << unknown;
  for (const auto& e : {altered, missing, unknown}) EXPECT_EQ(e.find('\n'), std::string::npos);
  fs::remove_all(dir);

  const std::string head = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n";
  const std::string row = "2016-07-01 00:00:00,1,2,3,4,5,6,7\n";
  EXPECT_NO_THROW(ett::parse(head + row + row, "t", "t.csv", 2));
  const std::pair<std::string, std::string> bad[] = {
      {"", "t.csv:1: empty file"},
      {"date,A\n" + row, "t.csv:1: the header is not"},
      {head + row, "t.csv:2: the file ends after 1 rows, expected 2"},
      {head + row + "2016-07-01 01:00:00,1,2,3,4,5,6\n", "t.csv:3: expected a date and 7 numbers"},
      {head + row + "2016-07-01 01:00:00,1,2,3,4,5,6,7,8\n", "t.csv:3: expected a date"},
      {head + row + "2016-07-01 01:00:00,1,2,x,4,5,6,7\n", "t.csv:3: column MUFL is 'x'"},
      {head + row + "2016-07-01 01:00:00,1,2,3,4,5,nan,7\n", "t.csv:3: column LULL is 'nan'"},
      {head + row + ",1,2,3,4,5,6,7\n", "t.csv:3: expected a date and 7 numbers"},
      {head + row + row + row, "t.csv:4: more than 2 rows"},
  };
  for (const auto& [input, expected] : bad) {
    const std::string e = error_of([&] { ett::parse(input, "t", "t.csv", 2); });
    EXPECT_EQ(e.rfind(expected, 0), 0u) << "got: " << e;
  }
}

TEST(ForecastBaselines, RepeatAndScoreByHand) {
  Eigen::MatrixXd s(5, 2);
  s << 1, 10, 2, 20, 3, 30, 5, 60, 4, 40;
  const WindowSet w{&s, 0, 2, 2, 2};  // windows rows 0-1 -> 2-3, rows 1-2 -> 3-4
  const ForecastErrors e = score(w, repeat_last());
  // Window 0 predicts (2, 20): errors 1, 3 | 10, 40. Window 1 predicts (3, 30): 2, 1 | 30, 10.
  EXPECT_DOUBLE_EQ(e.mae, (1 + 3 + 10 + 40 + 2 + 1 + 30 + 10) / 8.0);
  EXPECT_DOUBLE_EQ(e.mse, (1 + 9 + 100 + 1600 + 4 + 1 + 900 + 100) / 8.0);
  EXPECT_THROW(score(WindowSet{&s, 0, 3, 2, 2}, repeat_last()), InputError);
}

TEST(ForecastBaselines, ResidualLinearIsTheLeastSquaresFitAndForecastsTheRule) {
  // x_{t+1} = x_t + <w*, x_{t-L+1..t} - x_t> + noise (std 0.01), three channels.
  const int L = 6, C = 3, N = 3000;
  const Eigen::VectorXd wstar = (Eigen::VectorXd(L) << 0, 0, 0.2, -0.3, 0.7, 0).finished();
  Rng rng = make_stream(3, "residual_linear");
  Eigen::MatrixXd s(N, C);
  for (int t = 0; t < L; ++t)
    for (int c = 0; c < C; ++c) s(t, c) = normal(rng);
  for (int t = L; t < N; ++t)
    for (int c = 0; c < C; ++c) {
      const double last = s(t - 1, c);
      const Eigen::VectorXd x = s.col(c).segment(t - L, L);
      s(t, c) = last + wstar.dot((x.array() - last).matrix()) + 0.01 * normal(rng);
    }
  const WindowSet train{&s, 0, N - L - 500, L, 2};
  const ResidualLinear m = fit_residual_linear(train);
  // The same estimator by a dense QR of the whole design (one row per window and channel).
  Eigen::MatrixXd Z(train.count * C, L - 1), T(train.count * C, 2);
  for (int i = 0; i < train.count; ++i)
    for (int c = 0; c < C; ++c) {
      const double last = s(i + L - 1, c);
      Z.row(i * C + c) = (s.col(c).segment(i, L - 1).array() - last).transpose();
      T.row(i * C + c) = (s.col(c).segment(i + L, 2).array() - last).transpose();
    }
  const Eigen::MatrixXd ref = Z.householderQr().solve(T);
  EXPECT_LT((m.w.topRows(L - 1) - ref).norm(), 1e-8 * ref.norm());
  EXPECT_TRUE(m.w.row(L - 1).isZero(0));
  EXPECT_LT((m.w.col(0) - wstar).cwiseAbs().maxCoeff(), 0.05) << m.w.col(0).transpose();
  // On later windows it forecasts one step at about the noise variance (1e-4), where repeating
  // the last value is several times worse.
  const WindowSet test{&s, N - L - 450, 400, L, 1};
  ResidualLinear one;
  one.w = m.w.leftCols(1);
  const double fitted = score(test, forecaster(one)).mse, repeat = score(test, repeat_last()).mse;
  EXPECT_LT(fitted, 1.3e-4);
  EXPECT_LT(fitted, 0.5 * repeat);
}

}  // namespace
}  // namespace attnlab
