#include "experiments/icl/common.h"

#include <algorithm>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <limits>
#include <map>
#include <memory>

#include "analysis/icl_ridge.h"
#include "core/error.h"
#include "core/mt_lanes.h"
#include "core/thread_pool.h"

namespace attnlab::icl {

const std::vector<std::string>& noise_names() {
  static const std::vector<std::string> names = {"u0", "u1", "u2", "u3",  "u4",
                                                 "u5", "u6", "u7", "c13", "c135"};
  return names;
}

RegressionSpec noise_spec(const std::string& name, int d, int n) {
  RegressionSpec s;
  s.d = d;
  s.n = n;
  if (name == "c13" || name == "c135") {
    s.law = NoiseLaw::Categorical;
    s.sigma_set = name == "c13" ? std::vector<double>{1, 3} : std::vector<double>{1, 3, 5};
  } else if (name.size() == 2 && name[0] == 'u' && name[1] >= '0' && name[1] <= '7') {
    s.law = NoiseLaw::Uniform;
    s.sigma_max = name[1] - '0';
  } else {
    throw InputError("icl: unknown noise setting '" + name + "' (u0..u7, c13, c135)");
  }
  return s;
}

Constraint sequences_fit_memory(std::vector<std::string> sets, std::string batch) {
  std::vector<std::string> sizes = sets;
  if (!batch.empty()) sizes.push_back(batch);
  sizes.push_back("n");
  sizes.push_back("d");
  return fits_memory(sizes, [sets, batch](const Params& p) {
    double count = batch.empty() ? 0.0 : 32 * p.number(batch);
    for (const auto& s : sets) count += p.number(s);
    return 8.0 * count * (p.number("n") + 1) * (p.number("d") + 1);
  });
}

EvalSet make_eval_set(const RegressionSpec& spec, std::uint64_t seed, std::size_t count) {
  EvalSet e;
  e.spec = spec;
  const Eigen::Index D = spec.d + 1, N = spec.n + 1, B = static_cast<Eigen::Index>(count);
  e.tokens.resize(D, B * N);
  e.target.resize(B);
  regression_batch(spec, seed, 0, {e.tokens, e.target, nullptr, &e.sigma});
  e.oracle_loss.assign(count, 0.0);
  parallel_for(
      count,
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t b = begin; b < end; ++b) {
          const auto Z = e.tokens.middleCols(static_cast<Eigen::Index>(b) * N, N);
          const double s = e.sigma(static_cast<Eigen::Index>(b));
          const double p = ridge_predict_reference(Z.topLeftCorner(spec.d, spec.n),
                                                   Z.row(spec.d).head(spec.n).transpose(),
                                                   Z.col(spec.n).head(spec.d), s * s);
          const double err = e.target(static_cast<Eigen::Index>(b)) - p;
          e.oracle_loss[b] = 0.5 * err * err;
        }
      },
      64);
  return e;
}

namespace {

// The mt19937_64 lanes (seed, twist, temper of 8 streams at once) are in core/mt_lanes.h.

// Boost's ziggurat for N(0, 1) (boost/random/normal_distribution.hpp, detail/int_float_pair.hpp)
// turns one 64-bit word u into b = u & 255, r = double((u & ~2^11) >> 8) * 2^-56, i = b >> 1,
// x = r * table_x[i], and returns x * (2 (b & 1) - 1) * 1 + 0 when x < table_x[i + 1] (98.8 % of
// words); otherwise it draws more words. zig_fast evaluates that fast path for 8 words: the
// candidate values and a mask of the words it accepts (no mask without AVX-512: Boost decides).
#if defined(__AVX512F__) && defined(__AVX512DQ__)
void zig_fast(const U64x8& word, double* z, std::uint8_t& ok) {
  const double* tx = boost::random::detail::normal_table<double>::table_x;
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i u = reinterpret_cast<__m512i>(word);
  const __m512i b = _mm512_and_si512(u, _mm512_set1_epi64(255));
  const __m512i i = _mm512_srli_epi64(b, 1);
  const __m512i mant = _mm512_srli_epi64(_mm512_andnot_si512(_mm512_set1_epi64(1 << 11), u), 8);
  const __m512d r = _mm512_mul_pd(_mm512_cvtepu64_pd(mant), _mm512_set1_pd(0x1p-56));
  const __m512d x = _mm512_mul_pd(r, _mm512_i64gather_pd(i, tx, 8));
  ok = _mm512_cmp_pd_mask(x, _mm512_i64gather_pd(_mm512_add_epi64(i, one), tx, 8), _CMP_LT_OQ);
  const __m512i sign = _mm512_sub_epi64(_mm512_slli_epi64(_mm512_and_si512(b, one), 1), one);
  const __m512d signed_x = _mm512_mul_pd(x, _mm512_cvtepi64_pd(sign));
  _mm512_storeu_pd(z, _mm512_add_pd(signed_x, _mm512_setzero_pd()));  // * sigma 1 + mean 0
}
#else
void zig_fast(const U64x8&, double* z, std::uint8_t& ok) {
  for (int v = 0; v < kMtLanes; ++v) z[v] = 0.0;
  ok = 0;
}
#endif

// The first kMtN tempered words of 8 streams (out[i][lane]), the ziggurat's fast-path value of
// each word and whether it is accepted, and the lanes' states for continuing past them.
struct MtLanes {
  U64x8 x[kMtN];
  U64x8 out[kMtN];
  double z[kMtN][kMtLanes];
  std::uint8_t ok[kMtN];
  // Fast-path values only for the first `expected` words (ok = 0 beyond: Boost decides).
  void seed(const std::uint64_t (&seeds)[kMtLanes], int expected) {
    U64x8 s;
    for (int v = 0; v < kMtLanes; ++v) s[v] = seeds[v];
    mt_seed(x, s);
    mt_twist(x);
    for (int i = 0; i < kMtN; ++i) out[i] = mt_temper(x[i]);
    const int zig_words = std::min(expected, kMtN);
    for (int i = 0; i < zig_words; ++i) zig_fast(out[i], z[i], ok[i]);
    std::fill(ok + zig_words, ok + kMtN, std::uint8_t(0));
  }
};

// A Boost-compatible engine reading one lane of MtLanes: the same words as
// boost::random::mt19937_64 seeded with that lane's seed. Past the first block it continues
// the lane's state alone (scalar twist).
class LaneEngine {
 public:
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type(0); }
  LaneEngine(const MtLanes& group, int lane) : group_(group), lane_(lane) {}
  result_type operator()() {
    if (pos_ == kMtN) next_block();
    const std::size_t p = static_cast<std::size_t>(pos_++);
    return state_.empty() ? group_.out[p][lane_] : block_[p];
  }
  // `count` draws of Boost's N(0, 1): the precomputed fast-path value while the next word is
  // accepted, else Boost's own code (which may draw several words).
  void normals(double* out, int count) {
    boost::random::normal_distribution<double> normal01(0.0, 1.0);
    int pos = pos_;
    for (int k = 0; k < count; ++k) {
      if (state_.empty() && pos < kMtN && (group_.ok[pos] >> lane_ & 1u) != 0) {
        out[k] = group_.z[pos++][lane_];
      } else {
        pos_ = pos;
        out[k] = normal01(*this);
        pos = pos_;
      }
    }
    pos_ = pos;
  }

 private:
  void next_block() {
    if (state_.empty()) {
      state_.resize(static_cast<std::size_t>(kMtN));
      block_.resize(static_cast<std::size_t>(kMtN));
      for (std::size_t i = 0; i < state_.size(); ++i) state_[i] = group_.x[i][lane_];
    }
    mt_twist(state_.data());
    for (std::size_t i = 0; i < state_.size(); ++i) block_[i] = mt_temper(state_[i]);
    pos_ = 0;
  }
  const MtLanes& group_;
  int lane_;
  int pos_ = 0;
  std::vector<std::uint64_t> state_, block_;  // past the first block
};

// synth/regression.cpp's fill_sequence with the engine as a parameter: same draws in the same
// order (sigma, w, x_0..x_n, xi_1..xi_n), same Eigen expressions, so the same doubles.
// Z: (d+1, n+1), noise: scratch; returns the target.
double fill_sequence_with(const RegressionSpec& spec, LaneEngine& eng, Eigen::MatrixXd& Z,
                          Eigen::VectorXd& w, std::vector<double>& draws) {
  const Eigen::Index d = spec.d, n = spec.n;
  double sigma = 0.0;
  if (spec.law == NoiseLaw::Uniform) {
    if (spec.sigma_max > 0.0)
      sigma = boost::random::uniform_real_distribution<double>(0.0, spec.sigma_max)(eng);
  } else {
    const auto last = static_cast<std::int64_t>(spec.sigma_set.size()) - 1;
    sigma = spec.sigma_set[static_cast<std::size_t>(
        boost::random::uniform_int_distribution<std::int64_t>(0, last)(eng))];
  }
  draws.resize(static_cast<std::size_t>(d + (n + 1) * d + n));
  eng.normals(draws.data(), static_cast<int>(draws.size()));
  const double* g = draws.data();
  for (Eigen::Index k = 0; k < d; ++k) w(k) = *g++;
  for (Eigen::Index i = 0; i <= n; ++i)
    for (Eigen::Index k = 0; k < d; ++k) Z(k, i) = *g++;
  Z.row(d).head(n).noalias() = w.transpose() * Z.topLeftCorner(d, n);
  for (Eigen::Index i = 0; i < n; ++i) Z(d, i) += sigma * *g++;
  Z(d, n) = 0.0;
  return w.dot(Z.col(n).head(d));
}

}  // namespace

void regression_batch_float(const RegressionSpec& spec, std::uint64_t seed, std::uint64_t first,
                            std::size_t batch, float* Zf, float* yf) {
  validate(spec);
  const auto zs = static_cast<std::size_t>((spec.d + 1) * (spec.n + 1));
  const std::size_t lanes = static_cast<std::size_t>(kMtLanes);
  const std::size_t groups = (batch + lanes - 1) / lanes;
  // words a sequence draws: sigma, d + (n+1) d + n normals, and a few rejections (1.2 % each)
  const int expected_words = 1 + spec.d + (spec.n + 1) * spec.d + spec.n + 16;
  parallel_for(groups, [&](std::size_t g0, std::size_t g1) {
    auto mt = std::make_unique<MtLanes>();
    Eigen::MatrixXd Z(spec.d + 1, spec.n + 1);
    Eigen::VectorXd w(spec.d);
    std::vector<double> draws;
    for (std::size_t g = g0; g < g1; ++g) {
      const std::size_t b0 = g * lanes, count = std::min(lanes, batch - b0);
      std::uint64_t seeds[kMtLanes] = {};
      for (std::size_t v = 0; v < count; ++v)
        seeds[v] = stream_seed(seed, "icl.task", first + b0 + v);
      mt->seed(seeds, expected_words);
      for (std::size_t v = 0; v < count; ++v) {
        LaneEngine eng(*mt, static_cast<int>(v));
        const double target = fill_sequence_with(spec, eng, Z, w, draws);
        float* out = Zf + (b0 + v) * zs;
        for (std::size_t e = 0; e < zs; ++e) out[e] = static_cast<float>(Z.data()[e]);
        yf[b0 + v] = static_cast<float>(target);
      }
    }
  });
}

std::vector<double> half_sq_errors(const EvalSet& set, const std::vector<double>& predictions) {
  std::vector<double> out(predictions.size());
  for (std::size_t b = 0; b < predictions.size(); ++b) {
    const double e = set.target(static_cast<Eigen::Index>(b)) - predictions[b];
    out[b] = 0.5 * e * e;
  }
  return out;
}

double table1(const std::string& row, const std::string& noise) {
  // Paper appendix B, Table 1 (adjusted evaluation loss, 1/2 MSE scale), spec §5.2.
  static const std::map<std::string, std::vector<double>> t = {
      {"GD++1", {1.768, 1.639, 1.396, 1.175, 1.015, 0.907, 0.841, 0.806, 1.007, 0.819}},
      {"DIAG1", {1.767, 1.639, 1.396, 1.175, 1.015, 0.906, 0.841, 0.806, 1.007, 0.819}},
      {"FULL1", {1.768, 1.640, 1.397, 1.176, 1.016, 0.907, 0.842, 0.806, 1.008, 0.820}},
      {"GD++2", {0.341, 0.295, 0.243, 0.265, 0.347, 0.366, 0.440, 0.530, 0.305, 0.427}},
      {"DIAG2", {0.265, 0.214, 0.173, 0.188, 0.219, 0.242, 0.254, 0.259, 0.201, 0.246}},
      {"FULL2", {0.264, 0.215, 0.173, 0.188, 0.220, 0.245, 0.259, 0.263, 0.202, 0.276}},
      {"GD++3", {0.019, 0.021, 0.071, 0.161, 0.259, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG3", {0.013, 0.015, 0.048, 0.087, 0.109, 0.118, 0.121, 0.123, 0.098, 0.119}},
      {"FULL3", {0.012, 0.015, 0.049, 0.075, 0.101, 0.117, 0.124, 0.127, 0.076, 0.113}},
      {"GD++4", {9.91e-05, 0.014, 0.066, 0.160, 0.258, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG4", {1.19e-04, 0.006, 0.024, 0.041, 0.050, 0.059, 0.065, 0.073, 0.043, 0.062}},
      {"FULL4", {1.63e-04, 0.005, 0.021, 0.038, 0.052, 0.065, 0.068, 0.076, 0.032, 0.061}},
      {"GD++5", {1.14e-07, 0.014, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG5", {1.81e-07, 0.004, 0.016, 0.029, 0.041, 0.051, 0.058, 0.062, 0.026, 0.051}},
      {"FULL5", {1.79e-07, 0.002, 0.015, 0.026, 0.038, 0.048, 0.059, 0.065, 0.016, 0.048}},
      {"GD++6", {2.37e-10, 0.009, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG6", {2.57e-10, 0.003, 0.014, 0.028, 0.040, 0.048, 0.054, 0.059, 0.020, 0.047}},
      {"FULL6", {2.71e-10, 0.002, 0.014, 0.025, 0.036, 0.044, 0.052, 0.059, 0.011, 0.043}},
      {"GD++7", {2.65e-12, 0.009, 0.066, 0.161, 0.265, 0.344, 0.454, 0.530, 0.222, 0.422}},
      {"DIAG7", {2.50e-12, 0.002, 0.014, 0.027, 0.040, 0.047, 0.052, 0.059, 0.018, 0.046}},
      {"FULL7", {2.50e-12, 0.002, 0.010, 0.025, 0.035, 0.047, 0.050, 0.057, 0.010, 0.035}},
      {"CONSTRR", {0, 0.009, 0.066, 0.161, 0.265, 0.365, 0.454, 0.530, 0.222, 0.422}},
      {"ADARR", {0, 0.003, 0.016, 0.034, 0.053, 0.068, 0.081, 0.092, 0.051, 0.084}},
      {"TUNEDRR", {0, 0.002, 0.010, 0.023, 0.037, 0.049, 0.060, 0.068, 0.021, 0.054}},
  };
  const auto it = t.find(row);
  const auto& names = noise_names();
  for (std::size_t c = 0; c < names.size(); ++c)
    if (names[c] == noise && it != t.end()) return it->second[c];
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace attnlab::icl
