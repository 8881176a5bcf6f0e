#pragma once
// NTK Gram spectra in extended precision, for kernels whose smallest eigenvalues lie far below
// double rounding (curse Assumption F.3: lambda_min(H*) > 0).
//
// Eigenvalues of a symmetric matrix computed with unit round-off eps are exact for a matrix
// within c (n + p) eps |H| of the true one (entries summed over p parameters, an O(n) eigen-
// solver backward error), so by Weyl each computed eigenvalue is within that distance of a true
// one. `SpectrumBounds` turns this into an interval for lambda_min / lambda_max with c = 10.
#include <Eigen/Dense>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <limits>

namespace attnlab {

// 150 decimal digits, no expression templates (Eigen needs plain value types).
using Extended = boost::multiprecision::number<boost::multiprecision::cpp_bin_float<150>,
                                               boost::multiprecision::et_off>;
using ExtendedMatrix = Eigen::Matrix<Extended, Eigen::Dynamic, Eigen::Dynamic>;

}  // namespace attnlab

namespace Eigen {
// Boost 1.74's eigen.hpp predates Eigen 3.4's NumTraits (no infinity()); this is the subset used.
template <>
struct NumTraits<attnlab::Extended> : GenericNumTraits<attnlab::Extended> {
  using Real = attnlab::Extended;
  using NonInteger = Real;
  using Nested = Real;
  using Literal = Real;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 1,
    AddCost = 4,
    MulCost = 8
  };
  static Real epsilon() { return std::numeric_limits<Real>::epsilon(); }
  static Real dummy_precision() { return 1000 * epsilon(); }
  static int digits10() { return std::numeric_limits<Real>::digits10; }
};
}  // namespace Eigen

namespace attnlab {

struct SpectrumBounds {
  double ratio = 0;       // computed lambda_min / lambda_max
  double lo = 0, hi = 0;  // ratio -+ 10 (n + p) eps: the true ratio lies in [lo, hi]
  double lambda_min = 0, lambda_max = 0;  // absolute (as doubles; lambda_min may underflow to 0
                                          // only below 1e-308, far beyond what is used here)
  double log10_lambda_min = 0;            // log10(lambda_min) when positive, else NaN
};

// Jt: (p, n). H = Jt^T Jt / scale (n, n), each entry summed over p in a fixed order (parallel
// over entries, so the same bits for any thread count).
ExtendedMatrix gram_extended(const ExtendedMatrix& Jt, double scale);
// Eigenvalues of symmetric H and the interval for lambda_min/lambda_max. `p`: the number of
// terms summed per entry of H.
SpectrumBounds spectrum_bounds(const ExtendedMatrix& H, Eigen::Index p);
// The same in double precision (eps = 2^-53), for the comparison that shows what double cannot
// resolve.
SpectrumBounds spectrum_bounds(const Eigen::MatrixXd& H, Eigen::Index p);

}  // namespace attnlab
