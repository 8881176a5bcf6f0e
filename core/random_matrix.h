#pragma once
// A matrix of independent N(0, scale^2) draws from one stream, filled column by column (the
// storage order), so a matrix is the same bits as the same draws taken one at a time.
#include <Eigen/Dense>

#include "core/rng.h"

namespace attnlab {

inline Eigen::MatrixXd gaussian_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng,
                                       double scale = 1.0) {
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = scale * normal(rng);
  return m;
}

}  // namespace attnlab
