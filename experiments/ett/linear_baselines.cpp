#include "experiments/ett/linear_baselines.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace attnlab::ett {

LtsfRecipe published_recipe(const std::string& dataset) {
  LtsfRecipe r;
  if (dataset == "ETTh1")
    r.lr = 0.005;
  else if (dataset == "ETTh2")
    r.lr = 0.05;
  else
    throw InputError("no published NLinear/DLinear recipe for dataset '" + dataset +
                     "' (known: ETTh1, ETTh2)");
  return r;
}

namespace {

// Windows `ids` of `w` as columns: X (L, ids C), Y (H, ids C), window-major then channel.
void gather(const WindowSet& w, const std::vector<int>& ids, std::size_t lo, std::size_t hi,
            Eigen::MatrixXd& X, Eigen::MatrixXd& Y) {
  const Eigen::MatrixXd& s = *w.series;
  const Eigen::Index C = s.cols();
  X.resize(w.lookback, static_cast<Eigen::Index>(hi - lo) * C);
  Y.resize(w.horizon, X.cols());
  for (std::size_t k = lo; k < hi; ++k) {
    const Eigen::Index t = w.first + ids[k], col = static_cast<Eigen::Index>(k - lo) * C;
    X.middleCols(col, C) = s.middleRows(t, w.lookback);
    Y.middleCols(col, C) = s.middleRows(t + w.lookback, w.horizon);
  }
}

}  // namespace

Forecaster forecaster(const ltsf::Params& p) {
  return [p](const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Ref<Eigen::MatrixXd> y) {
    y = ltsf::forward(p, Eigen::MatrixXd(x));
  };
}

LtsfTrained train_ltsf(ltsf::Kind kind, const WindowSet& train, const WindowSet& val,
                       const LtsfRecipe& recipe, std::uint64_t seed) {
  check(train);
  check(val);
  if (train.lookback != val.lookback || train.horizon != val.horizon)
    throw InputError("train_ltsf: train and validation windows differ in lookback or horizon");
  Rng init_rng = make_stream(seed, "ltsf.init");
  ltsf::Params p = ltsf::init(kind, train.lookback, train.horizon, init_rng);
  ltsf::Params g = ltsf::zeros_like(p);
  Adam<double> opt(AdamConfig{0.9, 0.999, 1e-8, 0});  // torch.optim.Adam's defaults
  LtsfTrained out;
  out.params = p;
  double best = INFINITY;
  int since_best = 0;
  std::vector<int> ids(static_cast<std::size_t>(train.count));
  Eigen::MatrixXd X, Y;
  const std::size_t B = static_cast<std::size_t>(recipe.batch);
  for (int epoch = 1; epoch <= recipe.max_epochs; ++epoch) {
    std::iota(ids.begin(), ids.end(), 0);
    Rng shuffle = make_stream(seed, "ltsf.shuffle", static_cast<std::uint64_t>(epoch));
    for (std::size_t i = ids.size(); i > 1; --i)
      std::swap(
          ids[i - 1],
          ids[static_cast<std::size_t>(uniform_int(shuffle, 0, static_cast<std::int64_t>(i - 1)))]);
    const double lr = recipe.lr * std::pow(0.5, epoch - 1);    // lradj type1
    for (std::size_t lo = 0; lo + B <= ids.size(); lo += B) {  // drop_last
      gather(train, ids, lo, lo + B, X, Y);
      for (const auto& b : ltsf::blocks(p, g)) std::fill(b.grad, b.grad + b.size, 0.0);
      const double loss = ltsf::mse_and_grad(p, X, Y, g);
      if (!std::isfinite(loss))
        throw NumericError(std::string(ltsf::kind_name(kind)) +
                           " training: loss is not finite in epoch " + std::to_string(epoch));
      opt.step(ltsf::blocks(p, g), lr);
    }
    const double v = score(val, forecaster(p)).mse;
    out.val_mse.push_back(v);
    if (v < best) {
      best = v;
      out.params = p;
      out.best_epoch = epoch;
      since_best = 0;
    } else if (++since_best >= recipe.patience) {
      break;
    }
  }
  return out;
}

}  // namespace attnlab::ett
