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

// ---- lane-interleaved ("compact") products -------------------------------------------------
// W sequences are processed together, one per SIMD lane (W = 16 floats or 8 doubles, one 64-byte
// vector): a (D, N) matrix of the group is D*N lane vectors, so every FMA uses all lanes whatever
// D is (a per-sequence D = 11 column fills only 11 of 16 float lanes). Shared parameters (P, Q)
// enter as scalars broadcast to all lanes. This is the batch-interleaved layout of MKL's compact
// GEMM and libxsmm; for the FULL training step it beat the per-sequence loops above by about 6x
// (icl.step_speed, bench/torch_icl_step.py).
#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace attnlab::icl::lanes {

template <class T>
struct Lanes;
template <>
struct Lanes<float> {
  typedef float V __attribute__((vector_size(64)));
  static constexpr int W = 16;
};
template <>
struct Lanes<double> {
  typedef double V __attribute__((vector_size(64)));
  static constexpr int W = 8;
};

using Idx = std::ptrdiff_t;

// A lane vector from an element that is either a lane vector or a scalar (broadcast).
template <class V, class E>
inline V splat(const E& e) {
  if constexpr (std::is_same_v<E, V>) {
    return e;
  } else {
    return V{} + e;
  }
}

inline constexpr int kTileRows = 4;  // C tile kTileRows x kTileCols: 24 accumulators + 4 A
inline constexpr int kTileCols = 6;  // vectors + 1 broadcast fit the 32 zmm registers

// One C tile of MI x NJ lane vectors, accumulated in registers over p = 0..k-1 in order.
// Element (i, p) of A is a[i*ars + p*acs]; (p, j) of B is b[p*brs + j*bcs]; (i, j) of C is
// c[i*crs + j*ccs]. add: C += A B, else C = A B (C not read).
template <class V, class EA, class EB, int MI, int NJ>
[[gnu::always_inline]] inline void lane_tile(int k, const EA* a, Idx ars, Idx acs, const EB* b,
                                             Idx brs, Idx bcs, V* c, Idx crs, Idx ccs, bool add) {
  V acc[MI][NJ];
#pragma GCC unroll 8
  for (int i = 0; i < MI; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NJ; ++j) acc[i][j] = add ? c[i * crs + j * ccs] : V{};
  for (int p = 0; p < k; ++p) {
    V av[MI];
#pragma GCC unroll 8
    for (int i = 0; i < MI; ++i) av[i] = splat<V>(a[i * ars + p * acs]);
#pragma GCC unroll 8
    for (int j = 0; j < NJ; ++j) {
      const V bv = splat<V>(b[p * brs + j * bcs]);
#pragma GCC unroll 8
      for (int i = 0; i < MI; ++i) acc[i][j] += av[i] * bv;
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MI; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NJ; ++j) c[i * crs + j * ccs] = acc[i][j];
}

template <class V, class EA, class EB>
using LaneTileFn = void (*)(int, const EA*, Idx, Idx, const EB*, Idx, Idx, V*, Idx, Idx, bool);

template <class V, class EA, class EB, std::size_t... I>
constexpr std::array<LaneTileFn<V, EA, EB>, sizeof...(I)> lane_tile_table(
    std::index_sequence<I...>) {
  return {&lane_tile<V, EA, EB, static_cast<int>(I) / kTileCols + 1,
                     static_cast<int>(I) % kTileCols + 1>...};
}

// C (m x n) [+]= A (m x k) B (k x n) for one group, strides as in lane_tile (transposes are
// stride swaps). EA, EB: V (per-lane operand) or the scalar type (shared operand).
template <class V, class EA, class EB>
void lane_mm(int m, int n, int k, const EA* a, Idx ars, Idx acs, const EB* b, Idx brs, Idx bcs,
             V* c, Idx crs, Idx ccs, bool add) {
  static constexpr auto table =
      lane_tile_table<V, EA, EB>(std::make_index_sequence<kTileRows * kTileCols>{});
  for (int j0 = 0; j0 < n; j0 += kTileCols) {
    const int nj = std::min(kTileCols, n - j0);
    for (int i0 = 0; i0 < m; i0 += kTileRows) {
      const int mi = std::min(kTileRows, m - i0);
      table[static_cast<std::size_t>((mi - 1) * kTileCols + nj - 1)](
          k, a + i0 * ars, ars, acs, b + j0 * bcs, brs, bcs, c + i0 * crs + j0 * ccs, crs, ccs,
          add);
    }
  }
}

// lane_mm inlined at the call site: with compile-time m, n and strides (a fixed D), the tile
// choice and all addresses fold to constants. Use only where the shapes are constants.
template <class V, class EA, class EB>
[[gnu::always_inline]] inline void lane_mm_fixed(int m, int n, int k, const EA* a, Idx ars, Idx acs,
                                                 const EB* b, Idx brs, Idx bcs, V* c, Idx crs,
                                                 Idx ccs, bool add) {
#pragma GCC unroll 8
  for (int j0 = 0; j0 < n; j0 += kTileCols) {
    const int nj = std::min(kTileCols, n - j0);
#pragma GCC unroll 8
    for (int i0 = 0; i0 < m; i0 += kTileRows) {
      const int mi = std::min(kTileRows, m - i0);
      const EA* ai = a + i0 * ars;
      const EB* bj = b + j0 * bcs;
      V* cij = c + i0 * crs + j0 * ccs;
#define ATTNLAB_LANE_TILE(MI, NJ)                                                    \
  if (mi == MI && nj == NJ) {                                                        \
    lane_tile<V, EA, EB, MI, NJ>(k, ai, ars, acs, bj, brs, bcs, cij, crs, ccs, add); \
    continue;                                                                        \
  }
      ATTNLAB_LANE_TILE(4, 6)
      ATTNLAB_LANE_TILE(4, 5) ATTNLAB_LANE_TILE(3, 6) ATTNLAB_LANE_TILE(3, 5)
          ATTNLAB_LANE_TILE(4, 3) ATTNLAB_LANE_TILE(3, 3) ATTNLAB_LANE_TILE(4, 2)
              ATTNLAB_LANE_TILE(3, 2) ATTNLAB_LANE_TILE(4, 1) ATTNLAB_LANE_TILE(3, 1)
                  ATTNLAB_LANE_TILE(1, 6) ATTNLAB_LANE_TILE(1, 5)
#undef ATTNLAB_LANE_TILE
                      lane_mm(mi, nj, k, ai, ars, acs, bj, brs, bcs, cij, crs, ccs,
                              add);  // other shapes
    }
  }
}

}  // namespace attnlab::icl::lanes
