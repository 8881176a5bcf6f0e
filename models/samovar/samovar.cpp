#include "models/samovar/samovar.h"

#include <cassert>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/random_matrix.h"

namespace attnlab::samovar {

namespace {

constexpr double kInitStd = 0.02;   // all Linear / Embedding weights (spec §1.11)
constexpr double kRevinEps = 1e-8;  // added to the window std (spec §1.8)

Vector ones(Eigen::Index n) { return Vector::Ones(n); }
Vector zeros(Eigen::Index n) { return Vector::Zero(n); }

// "mlp.W1", 2 -> "mlp2.W1"; "theta", -1 -> "theta".
std::string block_name(const char* field, int index) {
  std::string name = field;
  if (index >= 0) name.insert(name.find('.'), std::to_string(index));
  return name;
}

}  // namespace

Params init_params(const Config& cfg, Rng& rng) {
  const Eigen::Index C = cfg.channels, s = cfg.patch, D = cfg.width, P = cfg.patches(),
                     T = cfg.tokens(), d = cfg.head_dim();
  assert(cfg.width % cfg.heads == 0);
  Params p;
  p.G = gaussian_matrix(C, C, rng, kInitStd);
  p.g = zeros(C);
  p.W_ex = gaussian_matrix(s, D, rng, kInitStd);
  p.b_ex = zeros(D);
  p.gain_ex = ones(D);
  p.W_en = gaussian_matrix(s, D, rng, kInitStd);
  p.b_en = zeros(D);
  p.gain_en = ones(D);
  if (cfg.arch == Arch::LinTrans) {  // spec §1.12: per-position + per-channel/position
    p.E_pos = gaussian_matrix(T, D, rng, kInitStd);
    p.E_ch = gaussian_matrix(C * T, D, rng, kInitStd);
    p.gain_pre = ones(D);
    for (int l = 0; l < cfg.attn_layers; ++l)
      p.lin.push_back(init_lin_block(cfg.width, cfg.attn_layers, rng));
  } else {
    p.E_pos = gaussian_matrix(P, D, rng, kInitStd);
    p.E_ch = gaussian_matrix(C * T, D, rng, kInitStd);
    p.E_type = gaussian_matrix(2, D, rng, kInitStd);
    p.E_chtype = gaussian_matrix(2 * C, D, rng, kInitStd);
    p.gain_pre = ones(D);
    const double proj_std = kInitStd / std::sqrt(2.0 * cfg.mlp_layers);  // c_proj rule
    for (int b = 0; b < cfg.mlp_layers; ++b)
      p.mlp.push_back({ones(D), gaussian_matrix(D, 4 * D, rng, kInitStd), zeros(4 * D),
                       gaussian_matrix(4 * D, D, rng, proj_std), zeros(D)});
    p.gain_var = ones(D);
    for (int l = 0; l < cfg.attn_layers; ++l) {
      AttnLayer a;
      if (cfg.fixed_qv) {
        a.Qfix = gaussian_matrix(C * T, D, rng, kInitStd);
        a.Vfix = gaussian_matrix(C * T, D, rng, kInitStd);
      } else {
        a.Wq = gaussian_matrix(D, D, rng, kInitStd);
        a.bq = zeros(D);
        a.gq = ones(D);
        a.Wv = gaussian_matrix(D, D, rng, kInitStd);
        a.bv = zeros(D);
        a.gv = ones(D);
      }
      if (cfg.learned_keys) {
        a.Wk = gaussian_matrix(D, D, rng, kInitStd);
        a.bk = zeros(D);
      }
      p.attn.push_back(std::move(a));
    }
    p.theta = gaussian_matrix(D, d, rng, std::sqrt(kInitStd / std::sqrt(static_cast<double>(d))));
  }
  p.gain_final = ones(D);
  p.W_out = gaussian_matrix(D, s, rng, kInitStd);
  p.b_out = zeros(s);
  return p;
}

Grads zero_grads(const Params& like) {
  Grads g = like;
  g.set_zero();
  return g;
}

std::vector<ParamBlock<double>> param_blocks(Params& p, Grads& g, const Config&) {
  std::vector<ParamBlock<double>> blocks;
  Params::visit_blocks(p, &g, [&](const char* field, int index, auto& v, auto* gv) {
    if (v.size() == 0) return;
    assert(gv->size() == v.size());
    blocks.push_back(
        {block_name(field, index), v.data(), gv->data(), static_cast<std::size_t>(v.size())});
  });
  return blocks;
}

std::size_t count_params(const Params& p, const Config& cfg) {
  Params copy = p;
  Grads g = zero_grads(p);
  std::size_t n = 0;
  for (const auto& b : param_blocks(copy, g, cfg)) n += b.size;
  return n;
}

std::size_t authors_unread_params(const Config& cfg) {
  const auto D = static_cast<std::size_t>(cfg.width), P = static_cast<std::size_t>(cfg.patches());
  const auto layers = static_cast<std::size_t>(cfg.attn_layers);
  if (cfg.arch == Arch::LinTrans) return D * 2 * layers + 2 * layers;
  if (cfg.fixed_qv || cfg.learned_keys) return 0;
  return P * D + layers * D;
}

// ---- stack ----------------------------------------------------------------------------------

Matrix stack_forward(const Params& p, const Config& cfg, const Matrix& xt, int channel,
                     StackCache& c, Rng* dropout_rng, const StackCache* frozen_qv) {
  const auto M = static_cast<std::size_t>(cfg.attn_layers);
  const Eigen::Index T = xt.rows(), D = xt.cols();
  for (auto* v :
       {&c.q_pre, &c.q_inv, &c.Q, &c.v_pre, &c.v_inv, &c.V, &c.K_in, &c.K, &c.attn, &c.mask, &c.O})
    v->assign(M, Matrix());
  c.mix = Matrix::Zero(T, D);
  Matrix k_in = xt;  // W_k = I: layer 1's keys are x~ itself
  for (std::size_t l = 0; l < M; ++l) {
    const AttnLayer& a = p.attn[l];
    if (frozen_qv != nullptr) {  // VAR reading: the weight path held fixed
      c.Q[l] = frozen_qv->Q[l];
      c.V[l] = frozen_qv->V[l];
    } else if (cfg.fixed_qv) {  // q, v: learned constants of (channel, position)
      c.Q[l] = a.Qfix.middleRows(channel * T, T);
      c.V[l] = a.Vfix.middleRows(channel * T, T);
    } else {  // q = RMSNormHead(x~ W_q + b_q), v likewise, from the ORIGINAL input x~
      c.q_pre[l] = add_bias(xt * a.Wq, a.bq);
      c.Q[l] = rmsnorm(c.q_pre[l], a.gq, kHeadRmsEps, cfg.heads, c.q_inv[l]);
      c.v_pre[l] = add_bias(xt * a.Wv, a.bv);
      c.V[l] = rmsnorm(c.v_pre[l], a.gv, kHeadRmsEps, cfg.heads, c.v_inv[l]);
    }
    c.K_in[l] = k_in;
    c.K[l] = cfg.learned_keys ? add_bias(k_in * a.Wk, a.bk) : k_in;
    c.attn[l] = multihead_causal_linear_attention(c.Q[l], c.K[l], c.V[l], cfg.heads);
    c.mask[l] = dropout_mask(T, D, cfg.dropout, dropout_rng);
    c.O[l] = apply_mask(c.attn[l], c.mask[l]);  // o^(l) = dropout(attention)
    c.mix += c.O[l];                            // mixture: sum over layers
    k_in = c.O[l];                              // keys of the next layer: this output
  }
  Matrix y = apply_lu_blocks(c.mix, p.theta, cfg.heads);  // (sum_l o^(l)) W_o
  if (cfg.key_shortcut) y += xt;                          // + x~_t
  return y;
}

void stack_backward(const Params& p, const Config& cfg, const Matrix& xt, int channel,
                    const StackCache& c, const Matrix& dY, Grads& g, Matrix& dxt) {
  const auto M = static_cast<std::size_t>(cfg.attn_layers);
  const Eigen::Index T = xt.rows(), D = xt.cols();
  if (cfg.key_shortcut) dxt += dY;  // y = x~ + ...
  Matrix dmix = Matrix::Zero(T, D);
  apply_lu_blocks_backward(c.mix, p.theta, cfg.heads, dY, dmix, g.theta);  // y = mix W_o
  Matrix dO_from_next = Matrix::Zero(T, D);  // through layer l+1's keys
  for (std::size_t l = M; l-- > 0;) {
    const AttnLayer& a = p.attn[l];
    AttnLayer& ga = g.attn[l];
    const Matrix dO = dmix + dO_from_next;
    const Matrix dattn = apply_mask(dO, c.mask[l]);  // o = dropout(attn)
    Matrix dQ = Matrix::Zero(T, D), dK = dQ, dV = dQ;
    multihead_causal_linear_attention_backward(c.Q[l], c.K[l], c.V[l], dattn, cfg.heads, dQ, dK,
                                               dV);
    Matrix dk_in = dK;       // k = k_in (W_k = I) ...
    if (cfg.learned_keys) {  // ... or k = k_in W_k + b_k
      dk_in = dK * a.Wk.transpose();
      ga.Wk.noalias() += c.K_in[l].transpose() * dK;
      ga.bk += dK.colwise().sum().transpose();
    }
    if (l > 0)
      dO_from_next = dk_in;  // k_in = o^(l-1)
    else
      dxt += dk_in;  // k_in = x~
    if (cfg.fixed_qv) {
      ga.Qfix.middleRows(channel * T, T) += dQ;
      ga.Vfix.middleRows(channel * T, T) += dV;
      continue;
    }
    Matrix dq_pre = Matrix::Zero(T, D), dv_pre = Matrix::Zero(T, D);
    rmsnorm_backward(c.q_pre[l], a.gq, c.q_inv[l], cfg.heads, dQ, dq_pre, ga.gq);
    rmsnorm_backward(c.v_pre[l], a.gv, c.v_inv[l], cfg.heads, dV, dv_pre, ga.gv);
    ga.Wq.noalias() += xt.transpose() * dq_pre;  // q_pre = x~ W_q + b_q
    ga.bq += dq_pre.colwise().sum().transpose();
    ga.Wv.noalias() += xt.transpose() * dv_pre;
    ga.bv += dv_pre.colwise().sum().transpose();
    dxt.noalias() += dq_pre * a.Wq.transpose() + dv_pre * a.Wv.transpose();
  }
}

// ---- LinTrans stack ----------------------------------------------------------------------------

Matrix lin_stack_forward(const Params& p, const Config& cfg, const Matrix& X,
                         std::vector<LinBlockCache>& cache, Rng* rng,
                         const std::vector<LinBlockCache>* frozen_qv) {
  cache.assign(p.lin.size(), LinBlockCache());
  Matrix Y = X;
  for (std::size_t l = 0; l < p.lin.size(); ++l)
    Y = lin_block_forward(p.lin[l], cfg.heads, cfg.dropout, Y, cache[l], rng,
                          frozen_qv ? &(*frozen_qv)[l] : nullptr);
  return Y;
}

// ---- RevIN ----------------------------------------------------------------------------------

Revin revin_stats(const Vector& x, int patch) {
  const Eigen::Index L = x.size();
  assert(L >= 2 && patch >= 1);
  const Eigen::Index s = std::min<Eigen::Index>(patch, L);
  Revin r;
  r.mu = x.tail(s).mean();  // mean of the last H values only
  const double m = x.mean();
  r.sigma = std::sqrt((x.array() - m).square().sum() / static_cast<double>(L - 1)) + kRevinEps;
  return r;
}

// ---- one channel's token sequence -------------------------------------------------------------

namespace {

// SAMoVAR after the pre-norm: MLP blocks -> x~ = RMSNorm_VAR -> aligned stack. X: (T, D).
void seq_forward_aligned(const Params& p, const Config& cfg, Matrix X, int c, SeqCache& sc,
                         Rng* rng) {
  const Eigen::Index T = cfg.tokens(), D = cfg.width;
  const auto B = static_cast<std::size_t>(cfg.mlp_layers);
  for (auto* v : {&sc.mlp_in, &sc.mlp_inv, &sc.mlp_norm, &sc.mlp_h, &sc.mlp_a, &sc.mlp_mask})
    v->assign(B, Matrix());
  for (std::size_t b = 0; b < B; ++b) {  // x <- x + dropout(W2 gelu(W1 RMSNorm(x) + b1) + b2)
    const MlpBlock& m = p.mlp[b];
    sc.mlp_in[b] = X;
    sc.mlp_norm[b] = rmsnorm(X, m.gain, kRmsEps, 1, sc.mlp_inv[b]);
    sc.mlp_h[b] = add_bias(sc.mlp_norm[b] * m.W1, m.b1);
    sc.mlp_a[b] = gelu(sc.mlp_h[b]);
    sc.mlp_mask[b] = dropout_mask(T, D, cfg.dropout, rng);
    X += apply_mask(add_bias(sc.mlp_a[b] * m.W2, m.b2), sc.mlp_mask[b]);
  }
  sc.X_mlp = X;
  sc.xt = rmsnorm(X, p.gain_var, kRmsEps, 1, sc.var_inv);  // x~
  sc.y = stack_forward(p, cfg, sc.xt, c, sc.stack, rng);
}

void seq_forward(const Params& p, const Config& cfg, const Matrix& Z, const Matrix& Mix, int c,
                 SeqCache& sc, Rng* rng) {
  const Eigen::Index P = cfg.patches(), s = cfg.patch, T = cfg.tokens(), D = cfg.width;
  Matrix Zc(P, s);  // this channel's patches; row n = z_{c,n}
  sc.mix_patches.resize(P, s);
  for (Eigen::Index n = 0; n < P; ++n)
    for (Eigen::Index k = 0; k < s; ++k) {
      Zc(n, k) = Z(n * s + k, c);
      sc.mix_patches(n, k) = Mix(n * s + k, c);
    }
  // Tokenisers: u = RMSNorm_ex((G z + g) W_ex + b_ex), e = RMSNorm_en(z W_en + b_en).
  sc.ex_pre = add_bias(sc.mix_patches * p.W_ex, p.b_ex);
  const Matrix u = rmsnorm(sc.ex_pre, p.gain_ex, kRmsEps, 1, sc.ex_inv);
  sc.en_pre = add_bias(Zc * p.W_en, p.b_en);
  const Matrix e = rmsnorm(sc.en_pre, p.gain_en, kRmsEps, 1, sc.en_inv);
  Matrix tokens(T, D);  // [u_0, e_0, u_1, e_1, ...]
  for (Eigen::Index n = 0; n < P; ++n) {
    tokens.row(2 * n) = u.row(n);
    tokens.row(2 * n + 1) = e.row(n);
  }
  sc.tok_mask = dropout_mask(T, D, cfg.dropout, rng);
  sc.X0 = apply_mask(tokens, sc.tok_mask);  // dropout(token) + embeddings
  const bool lin = cfg.arch == Arch::LinTrans;
  for (Eigen::Index tau = 0; tau < T; ++tau)
    if (lin)
      sc.X0.row(tau) += p.E_pos.row(tau) + p.E_ch.row(c * T + tau);
    else
      sc.X0.row(tau) += p.E_pos.row(tau / 2) + p.E_ch.row(c * T + tau) + p.E_type.row(tau % 2) +
                        p.E_chtype.row(2 * c + tau % 2);
  const Matrix X = rmsnorm(sc.X0, p.gain_pre, kRmsEps, 1, sc.pre_inv);
  if (lin) {  // LinTrans: the standard block stack replaces MLPs -> x~ -> aligned stack
    sc.stack_in = X;
    sc.y = lin_stack_forward(p, cfg, X, sc.lin, rng);
  } else {
    seq_forward_aligned(p, cfg, X, c, sc, rng);
  }
  sc.y_en.resize(P, D);  // read out only at En positions
  for (Eigen::Index n = 0; n < P; ++n) sc.y_en.row(n) = sc.y.row(2 * n + 1);
  sc.fin = rmsnorm(sc.y_en, p.gain_final, kRmsEps, 1, sc.fin_inv);
  sc.pred = add_bias(sc.fin * p.W_out, p.b_out);  // (P, s)
}

// Backward of seq_forward_aligned: dY (T, D) at the stack output -> dX (+=) at its input.
void seq_backward_aligned(const Params& p, const Config& cfg, int c, const SeqCache& sc,
                          const Matrix& dY, Grads& g, Matrix& dX) {
  const Eigen::Index T = cfg.tokens(), D = cfg.width;
  Matrix dxt = Matrix::Zero(T, D);
  stack_backward(p, cfg, sc.xt, c, sc.stack, dY, g, dxt);
  rmsnorm_backward(sc.X_mlp, p.gain_var, sc.var_inv, 1, dxt, dX, g.gain_var);  // x~
  for (std::size_t b = sc.mlp_in.size(); b-- > 0;) {  // x_out = x_in + mask (a W2 + b2)
    const MlpBlock& m = p.mlp[b];
    MlpBlock& gm = g.mlp[b];
    const Matrix dout = apply_mask(dX, sc.mlp_mask[b]);
    gm.W2.noalias() += sc.mlp_a[b].transpose() * dout;
    gm.b2 += dout.colwise().sum().transpose();
    const Matrix dh = gelu_backward(sc.mlp_h[b], dout * m.W2.transpose());
    gm.W1.noalias() += sc.mlp_norm[b].transpose() * dh;
    gm.b1 += dh.colwise().sum().transpose();
    rmsnorm_backward(sc.mlp_in[b], m.gain, sc.mlp_inv[b], 1, dh * m.W1.transpose(), dX, gm.gain);
  }
}

// Returns dMix's column for this channel through dmix_patches (P, s).
void seq_backward(const Params& p, const Config& cfg, const Matrix& Z, int c, const SeqCache& sc,
                  const Matrix& dpred, Grads& g, Matrix& dMix) {
  const Eigen::Index P = cfg.patches(), s = cfg.patch, T = cfg.tokens(), D = cfg.width;
  // pred = fin W_out + b_out
  g.W_out.noalias() += sc.fin.transpose() * dpred;
  g.b_out += dpred.colwise().sum().transpose();
  const Matrix dfin = dpred * p.W_out.transpose();
  Matrix dyen = Matrix::Zero(P, D);
  rmsnorm_backward(sc.y_en, p.gain_final, sc.fin_inv, 1, dfin, dyen, g.gain_final);
  Matrix dY = Matrix::Zero(T, D);
  for (Eigen::Index n = 0; n < P; ++n) dY.row(2 * n + 1) = dyen.row(n);
  const bool lin = cfg.arch == Arch::LinTrans;
  Matrix dX = Matrix::Zero(T, D);
  if (lin) {  // blocks in reverse; the gradient flows down the residual stream
    for (std::size_t l = sc.lin.size(); l-- > 0;) {
      Matrix dXin = Matrix::Zero(T, D);
      lin_block_backward(p.lin[l], cfg.heads, sc.lin[l], dY, g.lin[l], dXin);
      dY = std::move(dXin);
    }
    dX = dY;
  } else {
    seq_backward_aligned(p, cfg, c, sc, dY, g, dX);
  }
  Matrix dX0 = Matrix::Zero(T, D);
  rmsnorm_backward(sc.X0, p.gain_pre, sc.pre_inv, 1, dX, dX0, g.gain_pre);
  for (Eigen::Index tau = 0; tau < T; ++tau) {  // embeddings
    g.E_ch.row(c * T + tau) += dX0.row(tau);
    if (lin) {
      g.E_pos.row(tau) += dX0.row(tau);
      continue;
    }
    g.E_pos.row(tau / 2) += dX0.row(tau);
    g.E_type.row(tau % 2) += dX0.row(tau);
    g.E_chtype.row(2 * c + tau % 2) += dX0.row(tau);
  }
  const Matrix dtok = apply_mask(dX0, sc.tok_mask);
  Matrix du(P, D), de(P, D);
  for (Eigen::Index n = 0; n < P; ++n) {
    du.row(n) = dtok.row(2 * n);
    de.row(n) = dtok.row(2 * n + 1);
  }
  Matrix dex_pre = Matrix::Zero(P, D), den_pre = Matrix::Zero(P, D);
  rmsnorm_backward(sc.ex_pre, p.gain_ex, sc.ex_inv, 1, du, dex_pre, g.gain_ex);
  rmsnorm_backward(sc.en_pre, p.gain_en, sc.en_inv, 1, de, den_pre, g.gain_en);
  g.W_ex.noalias() += sc.mix_patches.transpose() * dex_pre;
  g.b_ex += dex_pre.colwise().sum().transpose();
  const Matrix dmix_patches = dex_pre * p.W_ex.transpose();  // (P, s)
  for (Eigen::Index n = 0; n < P; ++n)
    for (Eigen::Index k = 0; k < s; ++k) dMix(n * s + k, c) += dmix_patches(n, k);
  Matrix Zc(P, s);
  for (Eigen::Index n = 0; n < P; ++n)
    for (Eigen::Index k = 0; k < s; ++k) Zc(n, k) = Z(n * s + k, c);
  g.W_en.noalias() += Zc.transpose() * den_pre;
  g.b_en += den_pre.colwise().sum().transpose();
}

}  // namespace

// ---- the whole model ------------------------------------------------------------------------

Matrix forward_with_revin(const Params& p, const Config& cfg, const Matrix& window,
                          const std::vector<Revin>& revin, SampleCache& cache, Rng* rng) {
  const Eigen::Index L = cfg.input_len, C = cfg.channels, s = cfg.patch, P = cfg.patches();
  assert(window.rows() == L && window.cols() == C);
  cache.revin = revin;
  cache.Z = Matrix::Zero(P * s, C);  // left zero-padding by P s - L
  for (Eigen::Index c = 0; c < C; ++c)
    cache.Z.col(c).tail(L) = (window.col(c).array() - revin[static_cast<std::size_t>(c)].mu) /
                             revin[static_cast<std::size_t>(c)].sigma;
  const Matrix Mix = add_bias(cache.Z * p.G.transpose(), p.g);  // (P s, C): G z + g per step
  cache.seq.assign(static_cast<std::size_t>(C), SeqCache());
  Matrix forecast(s, C);
  for (Eigen::Index c = 0; c < C; ++c) {
    SeqCache& sc = cache.seq[static_cast<std::size_t>(c)];
    seq_forward(p, cfg, cache.Z, Mix, static_cast<int>(c), sc, rng);
    const Revin& r = revin[static_cast<std::size_t>(c)];
    forecast.col(c) = (sc.pred.row(P - 1).transpose().array() * r.sigma + r.mu).matrix();
  }
  return forecast;
}

Matrix forward(const Params& p, const Config& cfg, const Matrix& window, SampleCache& cache,
               Rng* rng) {
  std::vector<Revin> revin;
  for (Eigen::Index c = 0; c < window.cols(); ++c)
    revin.push_back(revin_stats(window.col(c), cfg.patch));
  return forward_with_revin(p, cfg, window, revin, cache, rng);
}

void backward(const Params& p, const Config& cfg, const SampleCache& cache,
              const Matrix& d_forecast, const std::vector<Matrix>& d_pred, Grads& g) {
  const Eigen::Index C = cfg.channels, P = cfg.patches();
  Matrix dMix = Matrix::Zero(cache.Z.rows(), C);
  for (Eigen::Index c = 0; c < C; ++c) {
    const auto cu = static_cast<std::size_t>(c);
    Matrix dpred = d_pred[cu];  // forecast = pred_{P-1} sigma + mu
    dpred.row(P - 1) += cache.revin[cu].sigma * d_forecast.col(c).transpose();
    seq_backward(p, cfg, cache.Z, static_cast<int>(c), cache.seq[cu], dpred, g, dMix);
  }
  g.G.noalias() += dMix.transpose() * cache.Z;  // Mix = Z G^T + g
  g.g += dMix.colwise().sum().transpose();
}

double sample_loss_reference(const Params& p, const Config& cfg, const Matrix& window,
                             const Matrix& target, double weight_fc, double weight_aux, Rng* rng,
                             Grads* grads) {
  const Eigen::Index C = cfg.channels, P = cfg.patches(), s = cfg.patch;
  if (target.rows() != s || target.cols() != C)
    throw InputError("samovar::sample_loss_reference: target must be (patch, channels) = (" +
                     std::to_string(s) + ", " + std::to_string(C) + ")");
  SampleCache cache;
  const Matrix forecast = forward(p, cfg, window, cache, rng);
  const Matrix r_fc = forecast - target;
  double loss = weight_fc * r_fc.squaredNorm();
  std::vector<Matrix> d_pred;
  for (Eigen::Index c = 0; c < C; ++c) {
    const SeqCache& sc = cache.seq[static_cast<std::size_t>(c)];
    Matrix d = Matrix::Zero(P, s);
    for (Eigen::Index n = 0; n + 1 < P; ++n)  // auxiliary next-patch loss in RevIN units
      for (Eigen::Index k = 0; k < s; ++k) {
        const double r = sc.pred(n, k) - cache.Z((n + 1) * s + k, c);
        loss += weight_aux * r * r;
        d(n, k) = 2.0 * weight_aux * r;
      }
    d_pred.push_back(std::move(d));
  }
  if (grads != nullptr) backward(p, cfg, cache, 2.0 * weight_fc * r_fc, d_pred, *grads);
  return loss;
}

}  // namespace attnlab::samovar
