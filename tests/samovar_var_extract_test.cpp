// Protects: the VAR-weight extraction (analysis/var_extract) -- path counts, the B^(l) recursion
// against explicit path sums, numerical rank -- and that SAMoVAR training is bitwise identical
// for 1 and 2 threads.
#include <gtest/gtest.h>

#include "analysis/var_extract.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "experiments/registry.h"
#include "models/samovar/linear_attention.h"

namespace attnlab::var_extract {
namespace {

TEST(SamovarVarExtract, PathCountClosedForm) {
  EXPECT_EQ(path_count_closed_form(0, 1), 1);
  EXPECT_EQ(path_count_closed_form(5, 1), 1);
  EXPECT_EQ(path_count_closed_form(3, 2), 4);   // t - j + 1 intermediates
  EXPECT_EQ(path_count_closed_form(6, 3), 28);  // C(8, 2)
}

TEST(SamovarVarExtract, RecursionEqualsPathSumsAndSingleLayerEqualsAttention) {
  Rng rng = make_stream(11, "test.inputs");
  std::vector<MatrixXd> Q, V;
  for (int l = 0; l < 3; ++l) {
    Q.push_back(gaussian_matrix(6, 3, rng));
    V.push_back(gaussian_matrix(6, 3, rng));
  }
  const auto B = path_weights(Q, V);
  for (int l = 1; l <= 3; ++l) {
    const PathSum s = enumerate_paths(Q, V, 5, 1, l);
    EXPECT_EQ(s.count, path_count_closed_form(4, l)) << "layer " << l;
    const MatrixXd& b = B[static_cast<std::size_t>(l - 1)].at(5, 1);
    EXPECT_LE((s.sum - b).cwiseAbs().maxCoeff(), 1e-10 * b.cwiseAbs().maxCoeff()) << "layer " << l;
  }
  const MatrixXd K = gaussian_matrix(6, 3, rng);
  const MatrixXd O = samovar::causal_linear_attention<double>(Q[0], K, V[0]);
  EXPECT_LE((apply_lag_grid(single_layer_weights(Q[0], V[0]), K) - O).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(SamovarVarExtract, NumericalRank) {
  Rng rng = make_stream(12, "test.inputs");
  const MatrixXd u = gaussian_matrix(5, 2, rng), v = gaussian_matrix(5, 2, rng);
  EXPECT_EQ(numerical_rank(u.col(0) * v.col(0).transpose(), 1e-12), 1);
  EXPECT_EQ(numerical_rank(u * v.transpose(), 1e-12), 2);
  EXPECT_EQ(numerical_rank(MatrixXd::Zero(3, 3), 1e-12), 0);
}

TEST(SamovarTraining, BitwiseIdenticalForOneAndTwoThreads) {
  const ExperimentKind* kind = find_experiment("samovar_synthetic_var");
  ASSERT_NE(kind, nullptr);
  const nlohmann::json raw = {{"protocol", "authors"},
                              {"models", {"samovar", "fixedvar"}},
                              {"seeds", 1},
                              {"train_size", 24},
                              {"val_size", 8},
                              {"input_len", 8},
                              {"width", 4},
                              {"heads", 2},
                              {"layers", 2},
                              {"dropout", 0.1},
                              {"epochs", 2},
                              {"batch", 12},
                              {"warmup_epochs", 1},
                              {"lr", 0.003},
                              {"aux_weight", 1.0},
                              {"channel_drop", true},
                              {"ls_max_order", 2}};
  const ParamValues params(raw, kind->params, "test");
  std::map<std::string, double> first;
  bool have_first = false;
  for (int threads : {1, 2, 1}) {
    set_num_threads(threads);
    const Outcome out = kind->run(RunContext{params, 5, "test"});
    if (!have_first)
      first = out.metrics();
    else
      for (const auto& [k, v] : first)
        EXPECT_EQ(out.get(k), v) << k << " seed 5, threads " << threads;
    have_first = true;
  }
  set_num_threads(default_num_threads());
}

}  // namespace
}  // namespace attnlab::var_extract
