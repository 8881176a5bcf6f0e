#pragma once
// NLinear and DLinear, the linear forecasters of Zeng et al., "Are Transformers Effective for
// Time Series Forecasting?" (AAAI 2023; code cure-lab/LTSF-Linear, models/NLinear.py and
// models/DLinear.py, with one layer shared by all channels, individual = False):
//   NLinear: y = W (x - x_L 1) + b + x_L 1
//   DLinear: t = MA_k(x) (a moving average of k = 25 steps, the series' first and last values
//            repeated (k - 1) / 2 times beyond its ends), y = W (x - t) + b + V t + c
// for one channel's window x in R^L and forecast y in R^H. A batch is a matrix of columns:
// X (L, n) -> Y (H, n). Forward and backward side by side; tests/ltsf_linear_test.cpp checks the
// gradient against finite differences in double.
#include <Eigen/Dense>
#include <vector>

#include "core/optim.h"
#include "core/rng.h"

namespace attnlab::ltsf {

enum class Kind { NLinear, DLinear };
const char* kind_name(Kind k);  // "nlinear" | "dlinear"

inline constexpr int kDecompositionKernel = 25;  // DLinear.py: kernel_size = 25

struct Params {
  Kind kind = Kind::NLinear;
  Eigen::MatrixXd W;  // (H, L): NLinear's layer, DLinear's seasonal layer
  Eigen::VectorXd b;  // (H)
  Eigen::MatrixXd V;  // (H, L): DLinear's trend layer (empty for NLinear)
  Eigen::VectorXd c;  // (H)
  int horizon() const { return static_cast<int>(W.rows()); }
  int lookback() const { return static_cast<int>(W.cols()); }
};

// torch.nn.Linear's default initialisation: every weight and bias U(-1/sqrt(L), 1/sqrt(L)).
Params init(Kind kind, int lookback, int horizon, Rng& rng);
Params zeros_like(const Params& p);

// The trend of each column: the mean of the `kernel` (odd) steps centred on each step, with the
// first and last values repeated beyond the ends (replicate padding, as DLinear's moving_avg).
Eigen::MatrixXd moving_average(const Eigen::MatrixXd& X, int kernel = kDecompositionKernel);

Eigen::MatrixXd forward(const Params& p, const Eigen::MatrixXd& X);

// Mean squared error of forward(p, X) against Y (H, n) over all entries; adds its gradient to g
// (same shapes as p).
double mse_and_grad(const Params& p, const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, Params& g);

// The parameters as optimizer blocks ("W", "b", and for DLinear "V", "c").
std::vector<ParamBlock<double>> blocks(Params& p, Params& g);

}  // namespace attnlab::ltsf
