#pragma once
// AVX-512 micro-kernels for core/bgemm.cpp (internal header; include only from core/bgemm*.cpp).
//
// Layout: one C tile is MV vectors of rows (MV * L rows, L = 16 floats or 8 doubles, the last
// vector masked) by NR columns, held in MV * NR zmm accumulators for the whole k loop. Each step
// p loads MV vectors of column p of op(A) (contiguous: op(A) is column-major, packed first when
// A is transposed) and broadcasts NR elements of row p of op(B) from memory into FMAs:
//   acc[i][j] += A(i*L.., p) * B(p, j)          (p = 0..k-1 in order, one FMA each)
// op(B)(p, j) is B[p + j*ldb] (BT = false) or B[j + p*ldb] (BT = true); the latter has
// compile-time displacements j, the former needs one address per column, so NR caps differ.
// Register budget: MV*NR accumulators + MV A vectors <= 31 of 32 zmm.
#if defined(__AVX512F__)
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <utility>

namespace attnlab::bgemm_detail {

template <class T>
struct Avx512;

template <>
struct Avx512<float> {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static void store(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static Mask mask(int rows) {
    return rows >= L ? Mask(0xFFFF) : static_cast<Mask>((1u << rows) - 1u);
  }
};

template <>
struct Avx512<double> {
  using V = __m512d;
  using Mask = __mmask8;
  static constexpr int L = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static V load(const double* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
  static V set1(double x) { return _mm512_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static void store(double* p, Mask m, V v) { _mm512_mask_storeu_pd(p, m, v); }
  static Mask mask(int rows) {
    return rows >= L ? Mask(0xFF) : static_cast<Mask>((1u << rows) - 1u);
  }
};

// Largest NR per MV (index MV-1) that fits the register file.
inline constexpr std::array<int, 4> kMaxNr = {24, 14, 9, 6};

// Arguments of a run of tiles: `count` matrices, entry q at a + q*sa, b + q*sb, c + q*sc.
// a points at op(A)(row0, 0) (column stride lda), b at op(B)(0, col0), c at C(row0, col0).
// `last` masks the last row vector. pf_a/pf_b/pf_c: bytes of A/B/C to prefetch kPrefetchAhead
// entries ahead (0: none), for entries q + kPrefetchAhead < pf_limit (may exceed count: the
// next group of the same thread).
template <class T>
struct TileRun {
  int count, k;
  const T* a;
  std::ptrdiff_t lda, sa;
  const T* b;
  std::ptrdiff_t ldb, sb;
  T* c;
  std::ptrdiff_t ldc, sc;
  T alpha, beta;
  typename Avx512<T>::Mask last;
  std::ptrdiff_t pf_a, pf_b, pf_c;
  int pf_limit;
};

// Matrices this far ahead are prefetched into L1: a batch larger than L2 streams from L3/DRAM
// and the small kernels are otherwise bandwidth-bound (measured: 16^3 float 78 -> 110 GFLOP/s).
inline constexpr int kPrefetchAhead = 2;

inline void prefetch_bytes(const void* p, std::ptrdiff_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (std::ptrdiff_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 0, 3);
}

// Writes alpha*acc + beta*C for one tile (C unread if beta == 0).
template <class T, int MV, int NR>
inline void tile_store(const typename Avx512<T>::V (&acc)[MV][NR], T* c, std::ptrdiff_t ldc,
                       T alpha, T beta, typename Avx512<T>::Mask last) {
  using S = Avx512<T>;
  const typename S::V va = S::set1(alpha), vb = S::set1(beta);
  if (beta == T(0)) {
#pragma GCC unroll 32
    for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
      for (int i = 0; i < MV; ++i)
        S::store(c + j * ldc + i * S::L, i + 1 < MV ? S::mask(S::L) : last, S::mul(va, acc[i][j]));
  } else {
#pragma GCC unroll 32
    for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
      for (int i = 0; i < MV; ++i) {
        T* cij = c + j * ldc + i * S::L;
        const typename S::Mask mi = i + 1 < MV ? S::mask(S::L) : last;
        S::store(cij, mi, S::fma(vb, S::load(cij, mi), S::mul(va, acc[i][j])));
      }
  }
}

// The tile kernel, run over `count` matrices. Fields are copied to locals: stores to C could
// alias `r` as far as the compiler knows, which would reload them in the inner loop.
template <class T, int MV, int NR, bool BT>
void tile(const TileRun<T>& r) {
  using S = Avx512<T>;
  const int count = r.count, k = r.k, pf_limit = r.pf_limit;
  const std::ptrdiff_t lda = r.lda, ldb = r.ldb, ldc = r.ldc, sa = r.sa, sb = r.sb, sc = r.sc;
  const std::ptrdiff_t pf_a = r.pf_a, pf_b = r.pf_b, pf_c = r.pf_c;
  const typename S::Mask last = r.last;
  const T alpha = r.alpha, beta = r.beta;
  for (int q = 0; q < count; ++q) {
    const T* a = r.a + q * sa;
    const T* b = r.b + q * sb;
    T* c = r.c + q * sc;
    if (q + kPrefetchAhead < pf_limit) {
      prefetch_bytes(a + kPrefetchAhead * sa, pf_a);
      prefetch_bytes(b + kPrefetchAhead * sb, pf_b);
      prefetch_bytes(c + kPrefetchAhead * sc, pf_c);
    }
    typename S::V acc[MV][NR];
#pragma GCC unroll 32
    for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
      for (int i = 0; i < MV; ++i) acc[i][j] = S::zero();
    for (int p = 0; p < k; ++p) {
      const T* ap = a + p * lda;
      typename S::V av[MV];
#pragma GCC unroll 4
      for (int i = 0; i < MV; ++i)
        av[i] = i + 1 < MV ? S::load(ap + i * S::L) : S::load(ap + i * S::L, last);
#pragma GCC unroll 32
      for (int j = 0; j < NR; ++j) {
        const typename S::V bv = S::set1(BT ? b[p * ldb + j] : b[j * ldb + p]);
#pragma GCC unroll 4
        for (int i = 0; i < MV; ++i) acc[i][j] = S::fma(av[i], bv, acc[i][j]);
      }
    }
    tile_store<T, MV, NR>(acc, c, ldc, alpha, beta, last);
  }
}

template <class T>
using TileFn = void (*)(const TileRun<T>&);

template <class T, int MV, bool BT, int... J>
constexpr std::array<TileFn<T>, 24> tile_row(std::integer_sequence<int, J...>) {
  std::array<TileFn<T>, 24> row{};
  ((row[static_cast<std::size_t>(J)] =
        (J < kMaxNr[MV - 1] ? &tile<T, MV, (J < kMaxNr[MV - 1] ? J + 1 : 1), BT> : nullptr)),
   ...);
  return row;
}

// table[MV-1][NR-1]; entries beyond kMaxNr are null.
template <class T, bool BT>
constexpr std::array<std::array<TileFn<T>, 24>, 4> tile_table() {
  using Seq = std::make_integer_sequence<int, 24>;
  return {tile_row<T, 1, BT>(Seq{}), tile_row<T, 2, BT>(Seq{}), tile_row<T, 3, BT>(Seq{}),
          tile_row<T, 4, BT>(Seq{})};
}

}  // namespace attnlab::bgemm_detail
#endif  // __AVX512F__
