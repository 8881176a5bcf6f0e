#include "analysis/forecast_baselines.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace attnlab {

void check(const WindowSet& w) {
  if (w.series == nullptr) throw InputError("forecast windows: no series");
  if (w.count < 1 || w.lookback < 1 || w.horizon < 1 || w.first < 0 ||
      static_cast<Eigen::Index>(w.first) + w.count - 1 + w.lookback + w.horizon > w.series->rows())
    throw InputError("forecast windows: " + std::to_string(w.count) + " windows of " +
                     std::to_string(w.lookback) + " + " + std::to_string(w.horizon) +
                     " rows from row " + std::to_string(w.first) + " do not fit a series of " +
                     std::to_string(w.series->rows()) + " rows");
}

ForecastErrors score(const WindowSet& w, const Forecaster& f) {
  check(w);
  const Eigen::MatrixXd& s = *w.series;
  Eigen::MatrixXd y(w.horizon, s.cols());
  double se = 0, ae = 0;
  for (int i = 0; i < w.count; ++i) {
    const Eigen::Index t = w.first + i;
    f(s.middleRows(t, w.lookback), y);
    const auto err = (y - s.middleRows(t + w.lookback, w.horizon)).array();
    se += err.square().sum();
    ae += err.abs().sum();
  }
  const double n = static_cast<double>(w.count) * w.horizon * static_cast<double>(s.cols());
  return {se / n, ae / n};
}

Forecaster repeat_last() {
  return [](const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Ref<Eigen::MatrixXd> y) {
    y.rowwise() = x.row(x.rows() - 1);
  };
}

ResidualLinear fit_residual_linear(const WindowSet& train) {
  check(train);
  const Eigen::MatrixXd& s = *train.series;
  const int L = train.lookback, H = train.horizon, C = static_cast<int>(s.cols());
  const int K = L - 1;  // x_L - x_L = 0: the last weight multiplies nothing
  ResidualLinear m;
  m.w = Eigen::MatrixXd::Zero(L, H);
  if (K == 0) return m;  // lookback 1: the residual model is the repeat forecaster
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(K, K), cross = Eigen::MatrixXd::Zero(K, H);
  constexpr int kChunk = 2048;  // design rows per GEMM: (window, channel) pairs
  Eigen::MatrixXd Z(kChunk, K), T(kChunk, H);
  int rows = 0;
  auto flush = [&] {
    gram.selfadjointView<Eigen::Lower>().rankUpdate(Z.topRows(rows).transpose());
    cross.noalias() += Z.topRows(rows).transpose() * T.topRows(rows);
    rows = 0;
  };
  for (int i = 0; i < train.count; ++i) {
    const Eigen::Index t = train.first + i;
    for (int c = 0; c < C; ++c) {
      const double last = s(t + L - 1, c);
      Z.row(rows) = (s.col(c).segment(t, K).array() - last).transpose();
      T.row(rows) = (s.col(c).segment(t + L, H).array() - last).transpose();
      if (++rows == kChunk) flush();
    }
  }
  if (rows > 0) flush();
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  m.w.topRows(K) = gram.completeOrthogonalDecomposition().solve(cross);
  return m;
}

Forecaster forecaster(const ResidualLinear& m) {
  return [w = m.w](const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Ref<Eigen::MatrixXd> y) {
    const Eigen::RowVectorXd last = x.row(x.rows() - 1);
    y.noalias() = w.transpose() * (x.rowwise() - last);
    y.rowwise() += last;
  };
}

}  // namespace attnlab
