#pragma once
// Forecasters without training loops, fitted on sliding windows of a multichannel series, and the
// errors every forecaster is scored by (the real-data claims, var.ett_* and curse.ett_*):
//  * repeat: the last input value for every future step;
//  * residual linear (Ke et al., Curse of Attention, Def. 6.2; Zeng et al.'s N-Linear without its
//    bias): x_hat_{L+h} = x_L + <w_h, x - x_L 1>, one w_h in R^L per future step h, shared by the
//    channels, fitted by least squares over every training window and channel. The paper never
//    fits it (its Prop. J.3 is an existence statement): least squares is our reading, the point
//    gradient descent on the squared loss converges to.
#include <Eigen/Dense>
#include <functional>

namespace attnlab {

// Windows of `series` (rows = time, columns = channels): window i, i = 0 .. count - 1, has inputs
// rows [first + i, first + i + lookback) and targets rows [first + i + lookback, ... + horizon).
// The series must outlive the set.
struct WindowSet {
  const Eigen::MatrixXd* series = nullptr;
  int first = 0, count = 0, lookback = 1, horizon = 1;
};
void check(const WindowSet& w);  // InputError when a window leaves the series or a size is < 1

// Mean squared and mean absolute error over windows, future steps and channels.
struct ForecastErrors {
  double mse = 0, mae = 0;
};

// Fills y (horizon, channels) from x (lookback, channels).
using Forecaster =
    std::function<void(const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Ref<Eigen::MatrixXd> y)>;
ForecastErrors score(const WindowSet& w, const Forecaster& f);

Forecaster repeat_last();

struct ResidualLinear {
  Eigen::MatrixXd w;  // (lookback, horizon): column h is w_h; its last row multiplies 0 (zero)
};
// Least squares over all windows and channels of `train`: the minimum-norm solution of the
// normal equations (complete orthogonal decomposition of the Gram matrix), so a rank-deficient
// design (a constant stretch of data) still has one answer.
ResidualLinear fit_residual_linear(const WindowSet& train);
Forecaster forecaster(const ResidualLinear& m);

}  // namespace attnlab
