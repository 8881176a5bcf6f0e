// GCC 12 reports false -W(maybe-)uninitialized warnings inside Eigen 3.4's AVX-512 GEMM packing
// (_mm512_extractf64x4_pd in gemm_pack_rhs); it is Eigen's code, not ours.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"  // same false positive at -O2

#include "core/bgemm_eigen.h"

#include <Eigen/Core>

namespace attnlab::bgemm_detail {

template <class T>
void matrix_eigen(Trans ta, Trans tb, int m, int n, int k, T alpha, const T* a, std::ptrdiff_t lda,
                  const T* b, std::ptrdiff_t ldb, T beta, T* c, std::ptrdiff_t ldc) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using CMap = Eigen::Map<const Mat, 0, Eigen::OuterStride<>>;
  const bool at = ta == Trans::Yes, bt = tb == Trans::Yes;
  CMap am(a, at ? k : m, at ? m : k, Eigen::OuterStride<>(lda));  // stored A
  CMap bm(b, bt ? n : k, bt ? k : n, Eigen::OuterStride<>(ldb));  // stored B
  Eigen::Map<Mat, 0, Eigen::OuterStride<>> cm(c, m, n, Eigen::OuterStride<>(ldc));
  if (beta == T(0)) {
    cm.setZero();  // BLAS semantics: C is not read
  } else if (beta != T(1)) {
    cm *= beta;
  }
  if (k == 0) return;
  if (!at && !bt) cm.noalias() += alpha * am * bm;
  if (!at && bt) cm.noalias() += alpha * am * bm.transpose();
  if (at && !bt) cm.noalias() += alpha * am.transpose() * bm;
  if (at && bt) cm.noalias() += alpha * am.transpose() * bm.transpose();
}

template void matrix_eigen<float>(Trans, Trans, int, int, int, float, const float*, std::ptrdiff_t,
                                  const float*, std::ptrdiff_t, float, float*, std::ptrdiff_t);
template void matrix_eigen<double>(Trans, Trans, int, int, int, double, const double*,
                                   std::ptrdiff_t, const double*, std::ptrdiff_t, double, double*,
                                   std::ptrdiff_t);

}  // namespace attnlab::bgemm_detail
