#pragma once
// Batched small-matrix GEMM, column-major like BLAS.
//
//   for b in [0, batch):  C_b = alpha * op(A_b) * op(B_b) + beta * C_b
//
//   op(A_b): m x k   (A_b stored m x k with Trans::No, k x m with Trans::Yes; leading dim lda)
//   op(B_b): k x n   (B_b stored k x n with Trans::No, n x k with Trans::Yes; leading dim ldb)
//   C_b:     m x n   (leading dim ldc)
//   A_b = A + b * stride_a, B_b = B + b * stride_b, C_b = C + b * stride_c (in elements).
//   stride_a = 0 (or stride_b = 0) means that operand is shared by every b. The C_b must not
//   overlap (stride_c = 0 is rejected when batch > 1).
//
// An Eigen::Matrix<T, r, c> (column-major by default) has leading dimension r; a block or
// Map with OuterStride s has leading dimension s.
//
// BLAS semantics: with beta == 0, C is written without being read (NaNs in C are ignored).
// k == 0 gives C = beta * C. Leading dimensions must be >= max(1, rows of the stored matrix).
//
// Determinism: each C_b is computed by exactly one thread of the pool (core/thread_pool.h) with
// a kernel chosen from the shape alone, so results are bitwise identical for any thread count.
// The fast path and the reference differ only by rounding (fused multiply-adds, same
// summation order over k).
//
// Kernels: AVX-512 register-blocked micro-kernels when built with AVX-512F (ATTNLAB_NATIVE on
// an AVX-512 machine), else a portable loop kernel; shapes with m or k above
// kBgemmSmallLimit go to Eigen's blocked GEMM per matrix.
#include <cstddef>

namespace attnlab {

enum class Trans { No, Yes };

// Above this m or k (rows of C, inner dimension) a matrix goes to Eigen's cache-blocked GEMM:
// the micro-kernels keep a whole column panel of A in L1 and do no cache blocking.
inline constexpr int kBgemmSmallLimit = 128;

template <class T>
void bgemm(Trans ta, Trans tb, int m, int n, int k, T alpha, const T* A, int lda,
           std::ptrdiff_t stride_a, const T* B, int ldb, std::ptrdiff_t stride_b, T beta, T* C,
           int ldc, std::ptrdiff_t stride_c, int batch);

// Naive triple loop (i, j, then p in order 0..k-1), single-threaded. The ground truth for tests.
template <class T>
void bgemm_reference(Trans ta, Trans tb, int m, int n, int k, T alpha, const T* A, int lda,
                     std::ptrdiff_t stride_a, const T* B, int ldb, std::ptrdiff_t stride_b, T beta,
                     T* C, int ldc, std::ptrdiff_t stride_c, int batch);

// The portable fallback kernel (plain C++, auto-vectorized), multi-threaded like bgemm. bgemm
// uses it when built without AVX-512; exposed so that tests cover it on AVX-512 machines too.
template <class T>
void bgemm_portable(Trans ta, Trans tb, int m, int n, int k, T alpha, const T* A, int lda,
                    std::ptrdiff_t stride_a, const T* B, int ldb, std::ptrdiff_t stride_b, T beta,
                    T* C, int ldc, std::ptrdiff_t stride_c, int batch);

// "avx512" or "portable": the small-shape kernel family bgemm uses in this build.
const char* bgemm_kernel_name();

// Convenience: contiguous batches without transposes, C_b = A_b * B_b (+ beta C_b), with
// A: batch x (m x k), B: batch x (k x n), C: batch x (m x n), all tightly packed.
template <class T>
void bgemm_packed(int m, int n, int k, const T* A, const T* B, T* C, int batch, T beta = T(0)) {
  bgemm<T>(Trans::No, Trans::No, m, n, k, T(1), A, m, std::ptrdiff_t(m) * k, B, k,
           std::ptrdiff_t(k) * n, beta, C, m, std::ptrdiff_t(m) * n, batch);
}

}  // namespace attnlab
