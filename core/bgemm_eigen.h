#pragma once
// Eigen's cache-blocked GEMM for one matrix of a batch (internal to core/bgemm.cpp): the route
// for shapes above kBgemmSmallLimit. Same semantics and argument meaning as bgemm for one b.
#include <cstddef>

#include "core/bgemm.h"

namespace attnlab::bgemm_detail {

template <class T>
void matrix_eigen(Trans ta, Trans tb, int m, int n, int k, T alpha, const T* a, std::ptrdiff_t lda,
                  const T* b, std::ptrdiff_t ldb, T beta, T* c, std::ptrdiff_t ldc);

}  // namespace attnlab::bgemm_detail
