#include "analysis/ntk_extended.h"

#include <Eigen/Eigenvalues>
#include <cmath>

#include "core/thread_pool.h"

namespace attnlab {
namespace {

template <class Real, class Matrix>
SpectrumBounds bounds_of(const Matrix& H, Eigen::Index p) {
  Eigen::SelfAdjointEigenSolver<Matrix> es(H, Eigen::EigenvaluesOnly);
  const auto& ev = es.eigenvalues();  // ascending
  const Real lmin = ev(0), lmax = ev(ev.size() - 1);
  const Real eps = std::numeric_limits<Real>::epsilon();
  const Real err = 10 * static_cast<double>(H.rows() + p) * eps;
  const Real ratio = lmin / lmax;
  SpectrumBounds b;
  b.ratio = static_cast<double>(ratio);
  b.lo = static_cast<double>(ratio - err);
  b.hi = static_cast<double>(ratio + err);
  b.lambda_min = static_cast<double>(lmin);
  b.lambda_max = static_cast<double>(lmax);
  using std::log10;
  b.log10_lambda_min = lmin > 0 ? static_cast<double>(log10(lmin)) : std::nan("");
  return b;
}

}  // namespace

ExtendedMatrix gram_extended(const ExtendedMatrix& Jt, double scale) {
  const Eigen::Index n = Jt.cols(), p = Jt.rows();
  ExtendedMatrix H(n, n);
  const Extended inv = Extended(1) / Extended(scale);
  parallel_for(static_cast<std::size_t>(n * n), [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) {
      const auto i = static_cast<Eigen::Index>(k) / n, j = static_cast<Eigen::Index>(k) % n;
      if (j > i) continue;
      Extended s = 0;
      for (Eigen::Index r = 0; r < p; ++r) s += Jt(r, i) * Jt(r, j);
      H(i, j) = s * inv;
    }
  });
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) H(i, j) = H(j, i);
  return H;
}

SpectrumBounds spectrum_bounds(const ExtendedMatrix& H, Eigen::Index p) {
  return bounds_of<Extended>(H, p);
}

SpectrumBounds spectrum_bounds(const Eigen::MatrixXd& H, Eigen::Index p) {
  return bounds_of<double>(H, p);
}

}  // namespace attnlab
