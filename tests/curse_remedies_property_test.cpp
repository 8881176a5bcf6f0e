// Protects the structure of the E10 remedy toys: each reduces exactly to the §2.1 attention net
// in its special case, the paired inits start from f == 0, the differential toy keeps the x_d
// gating while the positional bias removes it, and results do not depend on the thread count.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "models/curse/attention_net.h"
#include "models/curse/diff_attention.h"
#include "models/curse/patch_attention.h"
#include "models/curse/posbias_attention.h"
#include "tests/tolerances.h"

namespace attnlab {
namespace {

double max_abs(const Eigen::VectorXd& v) { return v.cwiseAbs().maxCoeff(); }

TEST(CurseRemedies, SpecialCasesReduceToAttentionNet) {
  Rng rng = make_stream(51, "test.curse.remedies.reduce");
  const Eigen::MatrixXd X = gaussian_matrix(8, 20, rng, 1.5);
  const Eigen::VectorXd d_out = gaussian_matrix(20, 1, rng, 1.0);
  const curse::AttnNetParams base = curse::init_unpaired(300, 2.0, rng);  // > one 256-head block
  const Eigen::VectorXd F_ref = curse::forward_reference(base, X);
  curse::AttnNetParams g_ref{Eigen::VectorXd::Zero(300), Eigen::VectorXd::Zero(300)};
  curse::backward_reference(base, X, d_out, g_ref);

  // Positional bias B = 0: the same function and the same dL/dw.
  const curse::PosBiasParams pb = curse::posbias_init(base, 8);
  curse::PosBiasCache pc;
  EXPECT_LT(max_abs(curse::posbias_forward(pb, X, pc) - F_ref), tol::kExactDouble);
  EXPECT_LT(max_abs(curse::posbias_predict(pb, X) - F_ref), tol::kExactDouble);
  curse::PosBiasGrads gb = curse::posbias_zero_grads(pb);
  curse::posbias_backward(pb, pc, d_out, gb);
  EXPECT_LT(max_abs(gb.w - g_ref.w), tol::kExactDouble);

  // Patches of length 1 with u_r = 1: the same function and the same dL/dw.
  const curse::PatchAttnParams pp = curse::patch_attn_init(base, 1);
  curse::PatchAttnCache cc;
  EXPECT_LT(max_abs(curse::patch_attn_forward(pp, X, cc) - F_ref), tol::kExactDouble);
  EXPECT_LT(max_abs(curse::patch_attn_predict(pp, X) - F_ref), tol::kExactDouble);
  curse::PatchAttnGrads gp = curse::patch_attn_zero_grads(pp);
  curse::patch_attn_backward(pp, cc, d_out, gp);
  EXPECT_LT(max_abs(gp.w - g_ref.w), tol::kExactDouble);

  // Differential attention with w' = w: (1 - lambda) times the net.
  curse::DiffAttnParams pd{base.w, base.w, Eigen::VectorXd::Constant(1, 0.3), base.a};
  EXPECT_LT(max_abs(curse::diff_attn_predict(pd, X) - (1 - pd.lambda()) * F_ref),
            tol::kExactDouble);
}

// The blocked, vectorised forwards against their loop-level references at generic parameters.
TEST(CurseRemedies, FastForwardsAgreeWithReferences) {
  Rng rng = make_stream(56, "test.curse.remedies.ref");
  const Eigen::MatrixXd X = gaussian_matrix(8, 15, rng, 1.5);
  const curse::AttnNetParams base = curse::init_unpaired(300, 2.0, rng);  // > one 256-head block
  const curse::PosBiasParams pb{base.w, gaussian_matrix(300, 8, rng, 1.0), base.a};
  EXPECT_LT(max_abs(curse::posbias_predict(pb, X) - curse::posbias_forward_reference(pb, X)),
            tol::kExactDouble)
      << "seed 56";
  for (Eigen::Index ps : {1, 2, 4, 8}) {
    const curse::PatchAttnParams pp{base.w, gaussian_matrix(300, ps, rng, 1.0), base.a};
    curse::PatchAttnCache cache;
    const Eigen::VectorXd ref = curse::patch_attn_forward_reference(pp, X);
    EXPECT_LT(max_abs(curse::patch_attn_forward(pp, X, cache) - ref), tol::kExactDouble)
        << "seed 56 patch " << ps;
    EXPECT_LT(max_abs(curse::patch_attn_predict(pp, X) - ref), tol::kExactDouble)
        << "seed 56 patch " << ps;
  }
}

TEST(CurseRemedies, PairedInitsAreZeroEverywhere) {
  Rng rng = make_stream(52, "test.curse.remedies.paired");
  const curse::AttnNetParams base = curse::init_paired(64, 1.0, rng);
  const Eigen::MatrixXd X = gaussian_matrix(8, 50, rng, 1.0);
  EXPECT_LT(max_abs(curse::diff_attn_predict(curse::diff_attn_init(base, 1.0, 0.5, rng), X)),
            tol::kExactZero);
  EXPECT_LT(max_abs(curse::posbias_predict(curse::posbias_init(base, 8), X)), tol::kExactZero);
  for (Eigen::Index p : {2, 4})
    EXPECT_LT(max_abs(curse::patch_attn_predict(curse::patch_attn_init(base, p), X)),
              tol::kExactZero);
}

// At x_d = 0 both softmaxes of the differential toy are uniform: f = (1 - lambda) (sum a/sqrt m)
// mean(x) for every w, w'. The positional bias instead gives f = (1/sqrt m) sum_r a_r
// <softmax(b_r), x>, which is not x_d-gated.
TEST(CurseRemedies, GatingSurvivesDiffButNotPositionalBias) {
  Rng rng = make_stream(53, "test.curse.remedies.gating");
  Eigen::MatrixXd X = gaussian_matrix(8, 30, rng, 2.0);
  X.row(7).setZero();
  const curse::AttnNetParams base = curse::init_unpaired(41, 3.0, rng);
  const double inv_sqrt_m = 1.0 / std::sqrt(41.0);
  const curse::DiffAttnParams pd{base.w, gaussian_matrix(41, 1, rng, 3.0),
                                 Eigen::VectorXd::Constant(1, -0.7), base.a};
  const Eigen::VectorXd expect_diff =
      (1 - pd.lambda()) * base.a.sum() * inv_sqrt_m * X.colwise().mean().transpose();
  EXPECT_LT(max_abs(curse::diff_attn_predict(pd, X) - expect_diff), tol::kExactZero);

  const curse::PosBiasParams pb{base.w, gaussian_matrix(41, 8, rng, 1.0), base.a};
  Eigen::VectorXd expect_bias = Eigen::VectorXd::Zero(30);
  for (Eigen::Index r = 0; r < 41; ++r) {
    const Eigen::VectorXd e = pb.B.row(r).transpose().array().exp();
    expect_bias += inv_sqrt_m * base.a[r] * (X.transpose() * e) / e.sum();
  }
  EXPECT_LT(max_abs(curse::posbias_predict(pb, X) - expect_bias), tol::kExactZero);
  EXPECT_GT(max_abs(expect_bias), 0.1);  // the probe is not trivially zero
}

TEST(CurseRemedies, PatchSizeMustDivideWindow) {
  Rng rng = make_stream(54, "test.curse.remedies.patch");
  const curse::PatchAttnParams p = curse::patch_attn_init(curse::init_paired(8, 1.0, rng), 3);
  EXPECT_THROW(curse::patch_attn_predict(p, gaussian_matrix(8, 4, rng, 1.0)), InputError);
}

TEST(CurseRemedies, ThreadCountDoesNotChangeBits) {
  Rng rng = make_stream(55, "test.curse.remedies.threads");
  const Eigen::MatrixXd X = gaussian_matrix(8, 37, rng, 1.0);
  const Eigen::VectorXd d_out = gaussian_matrix(37, 1, rng, 1.0);
  const curse::AttnNetParams base = curse::init_unpaired(520, 1.0, rng);
  const curse::DiffAttnParams pd{base.w, gaussian_matrix(520, 1, rng, 1.0),
                                 Eigen::VectorXd::Constant(1, 0.2), base.a};
  const curse::PosBiasParams pb{base.w, gaussian_matrix(520, 8, rng, 1.0), base.a};
  const curse::PatchAttnParams pp{base.w, gaussian_matrix(520, 2, rng, 1.0), base.a};
  Eigen::VectorXd out[2];  // F and every gradient, concatenated
  const int before = num_threads();
  for (int t : {1, 2}) {
    set_num_threads(t);
    curse::DiffAttnCache dc;
    curse::PosBiasCache bc;
    curse::PatchAttnCache cc;
    curse::DiffAttnGrads gd = curse::diff_attn_zero_grads(pd);
    curse::PosBiasGrads gb = curse::posbias_zero_grads(pb);
    curse::PatchAttnGrads gp = curse::patch_attn_zero_grads(pp);
    const Eigen::VectorXd Fd = curse::diff_attn_forward(pd, X, dc);
    const Eigen::VectorXd Fb = curse::posbias_forward(pb, X, bc);
    const Eigen::VectorXd Fp = curse::patch_attn_forward(pp, X, cc);
    curse::diff_attn_backward(pd, dc, d_out, gd);
    curse::posbias_backward(pb, bc, d_out, gb);
    curse::patch_attn_backward(pp, cc, d_out, gp);
    const Eigen::VectorXd gB = gb.B.reshaped(), gU = gp.U.reshaped();
    Eigen::VectorXd all(Fd.size() * 3 + gd.w.size() * 5 + 1 + gB.size() + gU.size());
    all << Fd, Fb, Fp, gd.w, gd.w2, gd.theta, gb.w, gB, gp.w, gU, gd.a;
    out[t - 1] = all;
  }
  set_num_threads(before);
  EXPECT_TRUE((out[0].array() == out[1].array()).all()) << "seed 55";
}

}  // namespace
}  // namespace attnlab
