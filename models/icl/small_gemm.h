#pragma once
// Naive column-major products for the tiny (d+1)x(d+1) matrices of one sequence. The inner loop
// always runs over contiguous memory so the compiler vectorises it; for D = 11 these beat a
// general GEMM's blocking overhead. C(m x n) = beta*C + A' B' with A' = A or A^T (op chosen by
// the function name: nn, tn, nt), lda/ldb/ldc = leading dimensions.
namespace attnlab::icl {

// C += A B,   A: (m, k), B: (k, n)
inline constexpr int kRegRows = 16;  // columns of C up to this height are accumulated in registers

template <class T>
inline void gemm_nn(int m, int n, int k, const T* __restrict A, int lda, const T* __restrict B,
                    int ldb, T* __restrict C, int ldc) {
  if (m <= kRegRows) {
    for (int j = 0; j < n; ++j) {
      T acc[kRegRows];
      T* c = C + j * ldc;
      for (int i = 0; i < m; ++i) acc[i] = c[i];
      for (int p = 0; p < k; ++p) {
        const T b = B[p + j * ldb];
        const T* a = A + p * lda;
        for (int i = 0; i < m; ++i) acc[i] += a[i] * b;
      }
      for (int i = 0; i < m; ++i) c[i] = acc[i];
    }
    return;
  }
  for (int j = 0; j < n; ++j) {
    T* c = C + j * ldc;
    for (int p = 0; p < k; ++p) {
      const T b = B[p + j * ldb];
      const T* a = A + p * lda;
      for (int i = 0; i < m; ++i) c[i] += a[i] * b;
    }
  }
}

// C += A^T B,   A: (k, m), B: (k, n)
template <class T>
inline void gemm_tn(int m, int n, int k, const T* __restrict A, int lda, const T* __restrict B,
                    int ldb, T* __restrict C, int ldc) {
  for (int j = 0; j < n; ++j) {
    const T* b = B + j * ldb;
    for (int i = 0; i < m; ++i) {
      const T* a = A + i * lda;
      T s = 0;
      for (int p = 0; p < k; ++p) s += a[p] * b[p];
      C[i + j * ldc] += s;
    }
  }
}

// C += A B^T,   A: (m, k), B: (n, k)
template <class T>
inline void gemm_nt(int m, int n, int k, const T* __restrict A, int lda, const T* __restrict B,
                    int ldb, T* __restrict C, int ldc) {
  if (m <= kRegRows) {
    for (int j = 0; j < n; ++j) {
      T acc[kRegRows];
      T* c = C + j * ldc;
      for (int i = 0; i < m; ++i) acc[i] = c[i];
      for (int p = 0; p < k; ++p) {
        const T b = B[j + p * ldb];
        const T* a = A + p * lda;
        for (int i = 0; i < m; ++i) acc[i] += a[i] * b;
      }
      for (int i = 0; i < m; ++i) c[i] = acc[i];
    }
    return;
  }
  for (int j = 0; j < n; ++j) {
    T* c = C + j * ldc;
    for (int p = 0; p < k; ++p) {
      const T b = B[j + p * ldb];
      const T* a = A + p * lda;
      for (int i = 0; i < m; ++i) c[i] += a[i] * b;
    }
  }
}

}  // namespace attnlab::icl
