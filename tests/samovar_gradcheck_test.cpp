// Protects: every SAMoVAR backward (attention, RMSNorm, per-head RMSNorm, GELU, LU output
// matrix, the aligned stack, the whole model with tokeniser, embeddings, MLP blocks, readout,
// forecast and auxiliary loss; FixedVAR, the learned-key ablation and the LinTrans baseline,
// block by block and whole) against central finite differences in double.
#include <gtest/gtest.h>

#include "core/gradcheck.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "models/samovar/samovar.h"
#include "tests/tolerances.h"

namespace attnlab::samovar {
namespace {

GradBlock block(const std::string& name, Matrix& v, const Matrix& g) {
  return {name, v.data(), g.data(), static_cast<std::size_t>(v.size())};
}
GradBlock block(const std::string& name, Vector& v, const Vector& g) {
  return {name, v.data(), g.data(), static_cast<std::size_t>(v.size())};
}

void expect_ok(const GradCheckResult& r, const std::string& what) {
  EXPECT_LE(r.max_rel_error(), tol::kGradCheck) << what << ": " << r.worst();
}

TEST(SamovarGradcheck, CausalLinearAttention) {
  Rng rng = make_stream(1, "test.inputs");
  Matrix Q = gaussian_matrix(9, 6, rng), K = gaussian_matrix(9, 6, rng),
         V = gaussian_matrix(9, 6, rng);
  const Matrix W = gaussian_matrix(9, 6, rng);  // loss = sum(W .* O)
  Matrix dQ = Matrix::Zero(9, 6), dK = dQ, dV = dQ;
  multihead_causal_linear_attention_backward(Q, K, V, W, 2, dQ, dK, dV);
  auto loss = [&] { return multihead_causal_linear_attention(Q, K, V, 2).cwiseProduct(W).sum(); };
  expect_ok(check_gradient(loss, {block("Q", Q, dQ), block("K", K, dK), block("V", V, dV)}),
            "attention");
}

TEST(SamovarGradcheck, RmsNormPerRowAndPerHead) {
  for (int groups : {1, 3}) {
    Rng rng = make_stream(2, "test.inputs", static_cast<std::uint64_t>(groups));
    Matrix X = gaussian_matrix(5, 6, rng);
    Vector gain = Vector::Ones(6) + 0.3 * gaussian_matrix(6, 1, rng);
    const Matrix W = gaussian_matrix(5, 6, rng);
    Matrix inv, dX = Matrix::Zero(5, 6);
    Vector dgain = Vector::Zero(6);
    rmsnorm(X, gain, kRmsEps, groups, inv);
    rmsnorm_backward(X, gain, inv, groups, W, dX, dgain);
    auto loss = [&] {
      Matrix r;
      return rmsnorm(X, gain, kRmsEps, groups, r).cwiseProduct(W).sum();
    };
    expect_ok(check_gradient(loss, {block("X", X, dX), block("gain", gain, dgain)}),
              "rmsnorm groups=" + std::to_string(groups));
  }
}

TEST(SamovarGradcheck, GeluAndLuOutputMatrix) {
  Rng rng = make_stream(3, "test.inputs");
  Matrix X = gaussian_matrix(4, 6, rng, 2.0);
  const Matrix W = gaussian_matrix(4, 6, rng);
  Matrix dX = gelu_backward(X, W);
  expect_ok(check_gradient([&] { return gelu(X).cwiseProduct(W).sum(); }, {block("X", X, dX)}),
            "gelu");
  Matrix thetas = gaussian_matrix(6, 3, rng);  // two heads of d = 3
  Matrix dth = Matrix::Zero(6, 3), dX2 = Matrix::Zero(4, 6);
  apply_lu_blocks_backward(X, thetas, 2, W, dX2, dth);
  auto loss = [&] { return apply_lu_blocks(X, thetas, 2).cwiseProduct(W).sum(); };
  expect_ok(check_gradient(loss, {block("X", X, dX2), block("theta", thetas, dth)}), "lu");
}

Config small_config() {
  Config cfg;
  cfg.channels = 2;
  cfg.input_len = 7;  // P = 4 patches of s = 2 with one step of left padding
  cfg.patch = 2;
  cfg.width = 8;
  cfg.heads = 2;
  cfg.mlp_layers = 2;
  cfg.attn_layers = 3;
  cfg.dropout = 0.1;
  return cfg;
}

// Larger-than-default weights so every path carries a visible gradient.
Params perturbed_params(const Config& cfg, std::uint64_t seed) {
  Rng rng = make_stream(seed, "test.init");
  Params p = init_params(cfg, rng);
  Grads dummy = zero_grads(p);
  for (auto& b : param_blocks(p, dummy, cfg))
    for (std::size_t i = 0; i < b.size; ++i) b.value[i] += 0.3 * normal(rng);
  return p;
}

void check_whole_model(const Config& cfg, double weight_aux, const std::string& what) {
  Params p = perturbed_params(cfg, 7);
  Rng data = make_stream(7, "test.inputs");
  const Matrix window = gaussian_matrix(cfg.input_len, cfg.channels, data);
  const Matrix target = gaussian_matrix(cfg.patch, cfg.channels, data);
  const Rng dropout = make_stream(7, "test.dropout");  // the same masks in every evaluation
  Grads g = zero_grads(p);
  Rng r0 = dropout;
  sample_loss_reference(p, cfg, window, target, 0.7, weight_aux, &r0, &g);
  auto loss = [&] {
    Rng r = dropout;
    return sample_loss_reference(p, cfg, window, target, 0.7, weight_aux, &r, nullptr);
  };
  std::vector<GradBlock> blocks;
  for (const auto& b : param_blocks(p, g, cfg)) blocks.push_back({b.name, b.value, b.grad, b.size});
  expect_ok(check_gradient(loss, blocks), what);
}

TEST(SamovarGradcheck, WholeModelWithDropoutAndAuxLoss) {
  check_whole_model(small_config(), 0.4, "samovar");
}

TEST(SamovarGradcheck, WholeModelWithoutKeyShortcut) {
  Config cfg = small_config();
  cfg.key_shortcut = false;
  check_whole_model(cfg, 0.4, "no shortcut");
}

TEST(SamovarGradcheck, FixedVarWithoutAuxLoss) {
  Config cfg = small_config();
  cfg.fixed_qv = true;
  cfg.heads = 1;
  check_whole_model(cfg, 0.0, "fixedvar");
}

TEST(SamovarGradcheck, LinTransBlockWithDropout) {
  Rng rng = make_stream(11, "test.init");
  LinBlock b = init_lin_block(8, 2, rng);
  LinBlock g = b;
  for (Matrix* m : {&b.Wq, &b.Wk, &b.Wv, &b.Wc, &b.W1, &b.W2})
    *m += gaussian_matrix(m->rows(), m->cols(), rng, 0.3);
  for (Vector* v : {&b.gain_attn, &b.bq, &b.bk, &b.bv, &b.bc, &b.gain_mlp, &b.b1, &b.b2})
    *v += Vector(gaussian_matrix(v->size(), 1, rng, 0.3));
  for (Matrix* m : {&g.Wq, &g.Wk, &g.Wv, &g.Wc, &g.W1, &g.W2}) m->setZero();
  for (Vector* v : {&g.gain_attn, &g.bq, &g.bk, &g.bv, &g.bc, &g.gain_mlp, &g.b1, &g.b2})
    v->setZero();
  Matrix X = gaussian_matrix(7, 8, rng);
  const Matrix W = gaussian_matrix(7, 8, rng);  // loss = sum(W .* X_out)
  const Rng dropout = make_stream(11, "test.dropout");
  LinBlockCache cache;
  Rng r0 = dropout;
  lin_block_forward(b, 2, 0.2, X, cache, &r0);
  Matrix dX = Matrix::Zero(7, 8);
  lin_block_backward(b, 2, cache, W, g, dX);
  auto loss = [&] {
    Rng r = dropout;
    LinBlockCache c;
    return lin_block_forward(b, 2, 0.2, X, c, &r).cwiseProduct(W).sum();
  };
  expect_ok(check_gradient(
                loss, {block("X", X, dX), block("Wq", b.Wq, g.Wq), block("Wk", b.Wk, g.Wk),
                       block("Wv", b.Wv, g.Wv), block("Wc", b.Wc, g.Wc), block("W1", b.W1, g.W1),
                       block("W2", b.W2, g.W2), block("bq", b.bq, g.bq), block("bk", b.bk, g.bk),
                       block("bv", b.bv, g.bv), block("bc", b.bc, g.bc), block("b1", b.b1, g.b1),
                       block("b2", b.b2, g.b2), block("gain_attn", b.gain_attn, g.gain_attn),
                       block("gain_mlp", b.gain_mlp, g.gain_mlp)}),
            "lintrans block");
}

TEST(SamovarGradcheck, LinTransWholeModelWithDropoutAndAuxLoss) {
  Config cfg = small_config();
  cfg.arch = Arch::LinTrans;
  check_whole_model(cfg, 0.4, "lintrans");
}

TEST(SamovarGradcheck, LearnedKeyProjectionAblation) {
  Config cfg = small_config();
  cfg.learned_keys = true;
  check_whole_model(cfg, 0.4, "learned keys");
}

}  // namespace
}  // namespace attnlab::samovar
