// Protects: the three forms of causal linear attention agree (quadratic, recurrent state,
// loops), in double and float, per head and multi-head; and the masking includes the diagonal.
#include <gtest/gtest.h>

#include "core/rng.h"
#include "models/samovar/linear_attention.h"
#include "tests/tolerances.h"

namespace attnlab::samovar {
namespace {

template <class S>
Mat<S> random_mat(Eigen::Index r, Eigen::Index c, Rng& rng) {
  Mat<S> m(r, c);
  for (Eigen::Index j = 0; j < c; ++j)
    for (Eigen::Index i = 0; i < r; ++i) m(i, j) = static_cast<S>(normal(rng));
  return m;
}

TEST(SamovarLinearAttention, QuadraticRecurrentAndLoopFormsAgreeInDouble) {
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    Rng rng = make_stream(seed, "test.inputs");
    const auto Q = random_mat<double>(37, 6, rng), K = random_mat<double>(37, 6, rng),
               V = random_mat<double>(37, 6, rng);
    const auto O = causal_linear_attention<double>(Q, K, V);
    EXPECT_LE((O - causal_linear_attention_recurrent<double>(Q, K, V)).cwiseAbs().maxCoeff(),
              tol::kSameMapDouble)
        << "seed " << seed;
    EXPECT_LE((O - causal_linear_attention_reference<double>(Q, K, V)).cwiseAbs().maxCoeff(),
              tol::kSameMapDouble)
        << "seed " << seed;
  }
}

TEST(SamovarLinearAttention, FormsAgreeInFloatRelativeToScale) {
  Rng rng = make_stream(3, "test.inputs");
  const auto Q = random_mat<float>(64, 8, rng), K = random_mat<float>(64, 8, rng),
             V = random_mat<float>(64, 8, rng);
  const auto O = causal_linear_attention<float>(Q, K, V);
  const float scale = O.cwiseAbs().maxCoeff();
  EXPECT_LE((O - causal_linear_attention_recurrent<float>(Q, K, V)).cwiseAbs().maxCoeff() / scale,
            tol::kSameMapFloatRel);
}

TEST(SamovarLinearAttention, DiagonalIsIncludedAndFutureIsExcluded) {
  // T = 2: o_0 = (q_0.k_0) v_0 (the diagonal term), o_1 = (q_1.k_0) v_0 + (q_1.k_1) v_1.
  Mat<double> Q(2, 1), K(2, 1), V(2, 1);
  Q << 2, 3;
  K << 5, 7;
  V << 11, 13;
  const auto O = causal_linear_attention<double>(Q, K, V);
  EXPECT_EQ(O(0, 0), 2.0 * 5 * 11);
  EXPECT_EQ(O(1, 0), 3.0 * 5 * 11 + 3.0 * 7 * 13);
}

TEST(SamovarLinearAttention, MultiHeadEqualsPerHeadBlocks) {
  Rng rng = make_stream(4, "test.inputs");
  const auto Q = random_mat<double>(20, 12, rng), K = random_mat<double>(20, 12, rng),
             V = random_mat<double>(20, 12, rng);
  const auto O = multihead_causal_linear_attention(Q, K, V, 3);
  const auto R = multihead_causal_linear_attention_recurrent(Q, K, V, 3);
  for (int h = 0; h < 3; ++h) {
    const auto Oh = causal_linear_attention<double>(Q.middleCols(4 * h, 4), K.middleCols(4 * h, 4),
                                                    V.middleCols(4 * h, 4));
    EXPECT_EQ((O.middleCols(4 * h, 4) - Oh).cwiseAbs().maxCoeff(), 0.0) << "head " << h;
  }
  EXPECT_LE((O - R).cwiseAbs().maxCoeff(), tol::kSameMapDouble);
}

}  // namespace
}  // namespace attnlab::samovar
