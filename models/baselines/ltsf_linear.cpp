#include "models/baselines/ltsf_linear.h"

#include <algorithm>
#include <cmath>

namespace attnlab::ltsf {

using Eigen::Index;
using Eigen::MatrixXd;

const char* kind_name(Kind k) { return k == Kind::NLinear ? "nlinear" : "dlinear"; }

Params init(Kind kind, int lookback, int horizon, Rng& rng) {
  const double a = 1.0 / std::sqrt(static_cast<double>(lookback));
  auto draw = [&](Index r, Index c) {
    MatrixXd m(r, c);
    for (Index j = 0; j < c; ++j)
      for (Index i = 0; i < r; ++i) m(i, j) = uniform(rng, -a, a);
    return m;
  };
  Params p;
  p.kind = kind;
  p.W = draw(horizon, lookback);
  p.b = draw(horizon, 1);
  if (kind == Kind::DLinear) {
    p.V = draw(horizon, lookback);
    p.c = draw(horizon, 1);
  }
  return p;
}

Params zeros_like(const Params& p) {
  Params z;
  z.kind = p.kind;
  z.W = MatrixXd::Zero(p.W.rows(), p.W.cols());
  z.b = Eigen::VectorXd::Zero(p.b.size());
  z.V = MatrixXd::Zero(p.V.rows(), p.V.cols());
  z.c = Eigen::VectorXd::Zero(p.c.size());
  return z;
}

MatrixXd moving_average(const MatrixXd& X, int kernel) {
  const Index L = X.rows(), half = (kernel - 1) / 2;
  MatrixXd T(L, X.cols());
  for (Index j = 0; j < X.cols(); ++j)
    for (Index t = 0; t < L; ++t) {
      double sum = 0;  // padded steps t - half .. t + half, clamped into the window
      for (Index s = t - half; s <= t + half; ++s) sum += X(std::clamp<Index>(s, 0, L - 1), j);
      T(t, j) = sum / kernel;
    }
  return T;
}

MatrixXd forward(const Params& p, const MatrixXd& X) {
  if (p.kind == Kind::NLinear) {
    const Eigen::RowVectorXd last = X.row(X.rows() - 1);
    MatrixXd Y = p.W * (X.rowwise() - last);
    Y.colwise() += p.b;
    Y.rowwise() += last;
    return Y;
  }
  const MatrixXd T = moving_average(X);
  MatrixXd Y = p.W * (X - T) + p.V * T;
  Y.colwise() += p.b + p.c;
  return Y;
}

double mse_and_grad(const Params& p, const MatrixXd& X, const MatrixXd& Y, Params& g) {
  const MatrixXd E = forward(p, X) - Y;
  const double n = static_cast<double>(E.size());
  const MatrixXd dY = (2.0 / n) * E;  // d mean(E^2) / dY_hat
  if (p.kind == Kind::NLinear) {
    const Eigen::RowVectorXd last = X.row(X.rows() - 1);
    g.W.noalias() += dY * (X.rowwise() - last).transpose();
    g.b += dY.rowwise().sum();
  } else {
    const MatrixXd T = moving_average(X);
    g.W.noalias() += dY * (X - T).transpose();
    g.V.noalias() += dY * T.transpose();
    g.b += dY.rowwise().sum();
    g.c += dY.rowwise().sum();
  }
  return E.squaredNorm() / n;
}

std::vector<ParamBlock<double>> blocks(Params& p, Params& g) {
  std::vector<ParamBlock<double>> b = {
      {"W", p.W.data(), g.W.data(), static_cast<std::size_t>(p.W.size())},
      {"b", p.b.data(), g.b.data(), static_cast<std::size_t>(p.b.size())}};
  if (p.kind == Kind::DLinear) {
    b.push_back({"V", p.V.data(), g.V.data(), static_cast<std::size_t>(p.V.size())});
    b.push_back({"c", p.c.data(), g.c.data(), static_cast<std::size_t>(p.c.size())});
  }
  return b;
}

}  // namespace attnlab::ltsf
