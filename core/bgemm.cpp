#include "core/bgemm.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/bgemm_avx512.h"
#include "core/bgemm_eigen.h"
#include "core/thread_pool.h"

namespace attnlab {
namespace {

using Idx = std::ptrdiff_t;

// Aim for at least this many flops per thread-pool part, so that tiny batches stay on one thread
// (a wake-up costs a few microseconds, i.e. ~1e5 flops).
constexpr double kMinFlopsPerPart = 2.0e5;

struct Shape {
  Trans ta, tb;
  int m, n, k;
};

void check_args(const Shape& s, int lda, int ldb, int ldc, Idx stride_c, int batch) {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("bgemm(m=" + std::to_string(s.m) + ", n=" + std::to_string(s.n) +
                                ", k=" + std::to_string(s.k) + "): " + what);
  };
  if (s.m < 0 || s.n < 0 || s.k < 0 || batch < 0) fail("negative size or batch");
  const int a_rows = s.ta == Trans::No ? s.m : s.k;
  const int b_rows = s.tb == Trans::No ? s.k : s.n;
  if (lda < std::max(1, a_rows)) fail("lda=" + std::to_string(lda) + " below rows of A");
  if (ldb < std::max(1, b_rows)) fail("ldb=" + std::to_string(ldb) + " below rows of B");
  if (ldc < std::max(1, s.m)) fail("ldc=" + std::to_string(ldc) + " below m");
  if (batch > 1 && stride_c == 0 && s.m > 0 && s.n > 0) fail("stride_c = 0 with batch > 1");
}

// op(A) (m x k) from A stored k x m: out[i + p*m] = A[p + i*lda].
template <class T>
void pack_transposed(int m, int k, const T* a, Idx lda, T* out) {
  for (int i = 0; i < m; ++i)
    for (int p = 0; p < k; ++p) out[i + Idx(p) * m] = a[p + i * lda];
}

// Operands spanning more bytes than this (strided views into big arrays) are not prefetched.
constexpr Idx kPrefetchMaxBytes = 16384;

// Matrices whose C has several tiles are processed in groups of about this many bytes of A, B
// and C, half of the 48 KiB L1 data cache of the measured machine.
constexpr Idx kGroupBytes = 24576;

// C = alpha * acc + beta * C, not reading C when beta == 0.
template <class T>
T combine(T alpha, T acc, T beta, T c) {
  const T r = alpha * acc;
  return beta == T(0) ? r : r + beta * c;
}

// ---- portable kernel: plain C++ that compilers vectorize for any ISA ----
// op(A) is packed into `pa` with rows padded to a multiple of kPortMr (zeros), so that the
// inner loops have fixed trip counts; a kPortMr x kPortNr tile of C stays in `acc`.
constexpr int kPortMr = 16;
constexpr int kPortNr = 4;

template <class T>
void pack_padded(const Shape& s, const T* a, Idx lda, int mp, T* pa) {
  for (int p = 0; p < s.k; ++p) {
    T* col = pa + Idx(p) * mp;
    for (int i = 0; i < s.m; ++i) col[i] = s.ta == Trans::No ? a[i + p * lda] : a[p + i * lda];
    for (int i = s.m; i < mp; ++i) col[i] = T(0);
  }
}

// One matrix; op(B)(p, j) = b[p*brs + j*bcs]; pa from pack_padded with mp rows.
template <class T>
void matrix_portable(const Shape& s, T alpha, const T* pa, int mp, const T* b, Idx brs, Idx bcs,
                     T beta, T* c, Idx ldc) {
  for (int j0 = 0; j0 < s.n; j0 += kPortNr) {
    const int nr = std::min(kPortNr, s.n - j0);
    for (int i0 = 0; i0 < s.m; i0 += kPortMr) {
      T acc[kPortNr][kPortMr] = {};
      for (int p = 0; p < s.k; ++p) {
        const T* ap = pa + Idx(p) * mp + i0;
        for (int jj = 0; jj < nr; ++jj) {
          const T bpj = b[p * brs + (j0 + jj) * bcs];
          for (int ii = 0; ii < kPortMr; ++ii) acc[jj][ii] += ap[ii] * bpj;
        }
      }
      const int mr = std::min(kPortMr, s.m - i0);
      for (int jj = 0; jj < nr; ++jj) {
        T* cj = c + (j0 + jj) * ldc + i0;
        for (int ii = 0; ii < mr; ++ii) cj[ii] = combine(alpha, acc[jj][ii], beta, cj[ii]);
      }
    }
  }
}

// Bytes spanned by a stored rows x cols matrix with leading dimension ld, or 0 (no prefetch)
// when it is large or not a per-entry operand.
template <class T>
Idx prefetch_bytes_of(int rows, int cols, Idx ld, Idx stride) {
  if (stride == 0 || rows == 0 || cols == 0) return 0;
  const Idx bytes = ((cols - 1) * ld + rows) * Idx(sizeof(T));
  return bytes <= kPrefetchMaxBytes ? bytes : 0;
}

#if defined(__AVX512F__)
using bgemm_detail::Avx512;
using bgemm_detail::kMaxNr;
using bgemm_detail::TileRun;

// NR caps when op(B) is not transposed (one address register per column): measured, see
// docs/performance.md.
constexpr std::array<int, 4> kMaxNrStrided = {20, 12, 9, 6};
static_assert(kMaxNrStrided[0] <= kMaxNr[0] && kMaxNrStrided[1] <= kMaxNr[1] &&
                  kMaxNrStrided[2] <= kMaxNr[2] && kMaxNrStrided[3] <= kMaxNr[3],
              "the tile tables hold kMaxNr columns per MV");

struct TilePlan {
  int mv;  // row vectors per tile
  int nr;  // columns per tile
};

template <class T>
TilePlan plan_tiles(const Shape& s) {
  constexpr int L = Avx512<T>::L;
  const int vecs = std::max(1, (s.m + L - 1) / L);
  const int row_blocks = (vecs + 3) / 4;
  const int mv = (vecs + row_blocks - 1) / row_blocks;
  const bool bt = s.tb == Trans::Yes;
  const int cap = bt ? kMaxNr[static_cast<std::size_t>(mv - 1)]
                     : kMaxNrStrided[static_cast<std::size_t>(mv - 1)];
  const int col_blocks = std::max(1, (s.n + cap - 1) / cap);
  return {mv, std::max(1, (s.n + col_blocks - 1) / col_blocks)};
}

// All tiles of `r.count` matrices (r holds the first matrix's pointers and the strides).
template <class T>
void tiles_avx512(const Shape& s, const TilePlan& plan, TileRun<T> r) {
  using S = Avx512<T>;
  static constexpr auto table_n = bgemm_detail::tile_table<T, false>();
  static constexpr auto table_t = bgemm_detail::tile_table<T, true>();
  const auto& table = s.tb == Trans::Yes ? table_t : table_n;
  const T* a0 = r.a;
  const T* b0 = r.b;
  T* c0 = r.c;
  const int rows_per_tile = plan.mv * S::L;
  for (int j0 = 0; j0 < s.n; j0 += plan.nr) {
    const int nr = std::min(plan.nr, s.n - j0);
    r.b = s.tb == Trans::Yes ? b0 + j0 : b0 + j0 * r.ldb;
    for (int i0 = 0; i0 < s.m; i0 += rows_per_tile) {
      const int rows = std::min(rows_per_tile, s.m - i0);
      const int mv = (rows + S::L - 1) / S::L;
      r.a = a0 + i0;
      r.c = c0 + i0 + j0 * r.ldc;
      r.last = S::mask(rows - (mv - 1) * S::L);
      table[static_cast<std::size_t>(mv - 1)][static_cast<std::size_t>(nr - 1)](r);
      r.pf_limit = 0;  // later tiles of the group find it in L1
    }
  }
}
#endif

enum class Path { Eigen, Avx512, Portable };

template <class T>
struct Call {
  Shape s;
  T alpha;
  const T* A;
  int lda;
  Idx stride_a;
  const T* B;
  int ldb;
  Idx stride_b;
  T beta;
  T* C;
  int ldc;
  Idx stride_c;
  int batch;
};

template <class T>
std::size_t grain_of(const Shape& s) {
  const double flops = 2.0 * s.m * s.n * std::max(s.k, 1) + 1.0;
  return static_cast<std::size_t>(std::max(1.0, kMinFlopsPerPart / flops));
}

template <class T>
void run_eigen(const Call<T>& x) {
  parallel_for(
      static_cast<std::size_t>(x.batch),
      [&](std::size_t b0, std::size_t b1) {
        for (std::size_t ub = b0; ub < b1; ++ub) {
          const Idx b = static_cast<Idx>(ub);
          bgemm_detail::matrix_eigen(x.s.ta, x.s.tb, x.s.m, x.s.n, x.s.k, x.alpha,
                                     x.A + b * x.stride_a, x.lda, x.B + b * x.stride_b, x.ldb,
                                     x.beta, x.C + b * x.stride_c, x.ldc);
        }
      },
      grain_of<T>(x.s));
}

template <class T>
void run_portable(const Call<T>& x) {
  const Shape& s = x.s;
  const int mp = (s.m + kPortMr - 1) / kPortMr * kPortMr;
  const bool bt = s.tb == Trans::Yes;
  const Idx brs = bt ? x.ldb : 1, bcs = bt ? 1 : x.ldb;
  const std::size_t pack_size = static_cast<std::size_t>(Idx(mp) * s.k);
  std::vector<T> shared;  // packed op(A) when A is shared
  if (x.stride_a == 0) {
    shared.resize(pack_size);
    pack_padded(s, x.A, x.lda, mp, shared.data());
  }
  parallel_for(
      static_cast<std::size_t>(x.batch),
      [&](std::size_t b0, std::size_t b1) {
        std::vector<T> own(x.stride_a == 0 ? 0 : pack_size);
        for (std::size_t ub = b0; ub < b1; ++ub) {
          const Idx b = static_cast<Idx>(ub);
          if (x.stride_a != 0) pack_padded(s, x.A + b * x.stride_a, x.lda, mp, own.data());
          matrix_portable(s, x.alpha, x.stride_a == 0 ? shared.data() : own.data(), mp,
                          x.B + b * x.stride_b, brs, bcs, x.beta, x.C + b * x.stride_c, x.ldc);
        }
      },
      grain_of<T>(s));
}

#if defined(__AVX512F__)
template <class T>
void run_avx512(const Call<T>& x) {
  const Shape& s = x.s;
  const TilePlan plan = plan_tiles<T>(s);
  // op(A) needs contiguous columns: pack it when transposed (once when shared).
  const bool pack_a = s.ta == Trans::Yes;
  const std::size_t mk = static_cast<std::size_t>(Idx(s.m) * s.k);
  std::vector<T> shared;
  if (pack_a && x.stride_a == 0) {
    shared.resize(mk);
    pack_transposed(s.m, s.k, x.A, x.lda, shared.data());
  }
  const bool per_entry_pack = pack_a && x.stride_a != 0;
  TileRun<T> base{};
  base.k = s.k;
  base.lda = pack_a ? s.m : x.lda;
  base.sa = per_entry_pack ? 0 : x.stride_a;
  base.ldb = x.ldb;
  base.sb = x.stride_b;
  base.ldc = x.ldc;
  base.sc = x.stride_c;
  base.alpha = x.alpha;
  base.beta = x.beta;
  base.pf_a = per_entry_pack ? 0 : prefetch_bytes_of<T>(s.m, s.k, x.lda, x.stride_a);
  base.pf_b = prefetch_bytes_of<T>(s.tb == Trans::No ? s.k : s.n, s.tb == Trans::No ? s.n : s.k,
                                   x.ldb, x.stride_b);
  base.pf_c = prefetch_bytes_of<T>(s.m, s.n, x.ldc, x.stride_c);
  // The tile kernels walk groups of matrices (no per-matrix dispatch): the whole range when a
  // matrix is one tile, else groups small enough that a group's A, B, C stay in L1 while each
  // tile of the group is computed.
  const bool one_tile = s.m <= plan.mv * Avx512<T>::L && s.n <= plan.nr;
  const Idx bytes_per_entry =
      std::max<Idx>(1, (Idx(s.m) * s.k + Idx(s.k) * s.n + Idx(s.m) * s.n) * Idx(sizeof(T)));
  const std::size_t group =
      one_tile ? std::size_t(x.batch)
               : static_cast<std::size_t>(std::max<Idx>(1, kGroupBytes / bytes_per_entry));
  parallel_for(
      static_cast<std::size_t>(x.batch),
      [&](std::size_t b0, std::size_t b1) {
        std::vector<T> own(per_entry_pack ? mk : 0);
        TileRun<T> r = base;
        for (std::size_t g0 = b0; g0 < b1; g0 += per_entry_pack ? 1 : group) {
          const Idx first = static_cast<Idx>(g0);
          r.count = per_entry_pack ? 1 : static_cast<int>(std::min(group, b1 - g0));
          if (per_entry_pack) {
            pack_transposed(s.m, s.k, x.A + first * x.stride_a, x.lda, own.data());
            r.a = own.data();
          } else {
            r.a = pack_a ? shared.data() : x.A + first * x.stride_a;
          }
          r.b = x.B + first * x.stride_b;
          r.c = x.C + first * x.stride_c;
          r.pf_limit = static_cast<int>(b1 - g0);
          tiles_avx512(s, plan, r);
        }
      },
      grain_of<T>(s));
}
#endif

template <class T>
void run(Path path, const Call<T>& x) {
  if (x.batch == 0 || x.s.m == 0 || x.s.n == 0) return;
  if (path == Path::Eigen) return run_eigen(x);
#if defined(__AVX512F__)
  if (path == Path::Avx512) return run_avx512(x);
#endif
  run_portable(x);
}

Path fast_path(const Shape& s) {
  if (s.m > kBgemmSmallLimit || s.k > kBgemmSmallLimit) return Path::Eigen;
#if defined(__AVX512F__)
  return Path::Avx512;
#else
  return Path::Portable;
#endif
}

}  // namespace

const char* bgemm_kernel_name() {
#if defined(__AVX512F__)
  return "avx512";
#else
  return "portable";
#endif
}

template <class T>
void bgemm(Trans ta, Trans tb, int m, int n, int k, T alpha, const T* A, int lda, Idx stride_a,
           const T* B, int ldb, Idx stride_b, T beta, T* C, int ldc, Idx stride_c, int batch) {
  const Shape s{ta, tb, m, n, k};
  check_args(s, lda, ldb, ldc, stride_c, batch);
  run(fast_path(s),
      Call<T>{s, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, batch});
}

template <class T>
void bgemm_portable(Trans ta, Trans tb, int m, int n, int k, T alpha, const T* A, int lda,
                    Idx stride_a, const T* B, int ldb, Idx stride_b, T beta, T* C, int ldc,
                    Idx stride_c, int batch) {
  const Shape s{ta, tb, m, n, k};
  check_args(s, lda, ldb, ldc, stride_c, batch);
  run(Path::Portable,
      Call<T>{s, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, batch});
}

template <class T>
void bgemm_reference(Trans ta, Trans tb, int m, int n, int k, T alpha, const T* A, int lda,
                     Idx stride_a, const T* B, int ldb, Idx stride_b, T beta, T* C, int ldc,
                     Idx stride_c, int batch) {
  const Shape s{ta, tb, m, n, k};
  check_args(s, lda, ldb, ldc, stride_c, batch);
  for (int b = 0; b < batch; ++b) {
    const T* a = A + b * stride_a;
    const T* bb = B + b * stride_b;
    T* c = C + b * stride_c;
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < m; ++i) {
        T sum = T(0);
        for (int p = 0; p < k; ++p) {
          const T aip = ta == Trans::No ? a[i + Idx(p) * lda] : a[p + Idx(i) * lda];
          const T bpj = tb == Trans::No ? bb[p + Idx(j) * ldb] : bb[j + Idx(p) * ldb];
          sum += aip * bpj;
        }
        T& cij = c[i + Idx(j) * ldc];
        cij = combine(alpha, sum, beta, cij);
      }
    }
  }
}

#define ATTNLAB_BGEMM_INSTANTIATE(T)                                                             \
  template void bgemm<T>(Trans, Trans, int, int, int, T, const T*, int, Idx, const T*, int, Idx, \
                         T, T*, int, Idx, int);                                                  \
  template void bgemm_reference<T>(Trans, Trans, int, int, int, T, const T*, int, Idx, const T*, \
                                   int, Idx, T, T*, int, Idx, int);                              \
  template void bgemm_portable<T>(Trans, Trans, int, int, int, T, const T*, int, Idx, const T*,  \
                                  int, Idx, T, T*, int, Idx, int);
ATTNLAB_BGEMM_INSTANTIATE(float)
ATTNLAB_BGEMM_INSTANTIATE(double)
#undef ATTNLAB_BGEMM_INSTANTIATE

}  // namespace attnlab
