// Protects core/bgemm: the fast kernels (AVX-512 and portable) agree with bgemm_reference on
// random shapes, transposes, leading dimensions, strides, shared operands and beta; results are
// bitwise identical for 1 and 2 threads; padding outside the C blocks is never touched.
#include "core/bgemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"

namespace attnlab {
namespace {

// Tolerance (the bgemm area's only one): |fast - reference| <= kUlpsPerTerm * (k + 2) * eps *
// (|alpha| sum_p |a_ip b_pj| + |beta c_ij|). Both sum the k products in the same order and
// differ only by FMA contraction, so the error is a few ulps per term; 4 leaves headroom.
constexpr double kUlpsPerTerm = 4.0;
constexpr float kSentinel = -777.0f;  // value in C padding that must survive

// One random problem: stored operands with padding, strides and scalars.
template <class T>
struct Problem {
  Trans ta = Trans::No, tb = Trans::No;
  int m = 0, n = 0, k = 0, batch = 0, lda = 1, ldb = 1, ldc = 1;
  std::ptrdiff_t sa = 0, sb = 0, sc = 0;
  T alpha = 1, beta = 0;
  std::vector<T> A, B, C;  // C holds the initial C (with sentinel padding)
  std::string describe(std::uint64_t seed) const {
    return "seed=" + std::to_string(seed) + " m=" + std::to_string(m) + " n=" + std::to_string(n) +
           " k=" + std::to_string(k) + " batch=" + std::to_string(batch) +
           " ta=" + std::to_string(ta == Trans::Yes) + " tb=" + std::to_string(tb == Trans::Yes) +
           " lda=" + std::to_string(lda) + " ldb=" + std::to_string(ldb) +
           " ldc=" + std::to_string(ldc) + " sa=" + std::to_string(sa) +
           " sb=" + std::to_string(sb) + " beta=" + std::to_string(beta);
  }
};

int pick(Rng& rng, const std::vector<int>& v) {
  return v[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<std::int64_t>(v.size()) - 1))];
}

template <class T>
Problem<T> make_problem(std::uint64_t seed, const std::vector<int>& sizes, int batch = 0) {
  Rng rng = make_stream(seed, "bgemm_test");
  Problem<T> p;
  p.m = pick(rng, sizes);
  p.n = pick(rng, sizes);
  p.k = pick(rng, sizes);
  p.batch = static_cast<int>(uniform_int(rng, 1, 9));
  if (batch > 0) p.batch = batch;
  p.ta = bernoulli(rng, 0.5) ? Trans::Yes : Trans::No;
  p.tb = bernoulli(rng, 0.5) ? Trans::Yes : Trans::No;
  const int a_rows = p.ta == Trans::No ? p.m : p.k, a_cols = p.ta == Trans::No ? p.k : p.m;
  const int b_rows = p.tb == Trans::No ? p.k : p.n, b_cols = p.tb == Trans::No ? p.n : p.k;
  p.lda = std::max(1, a_rows) + static_cast<int>(uniform_int(rng, 0, 3));
  p.ldb = std::max(1, b_rows) + static_cast<int>(uniform_int(rng, 0, 3));
  p.ldc = p.m + static_cast<int>(uniform_int(rng, 0, 3));
  const bool shared_a = bernoulli(rng, 0.2), shared_b = !shared_a && bernoulli(rng, 0.2);
  p.sa = shared_a ? 0 : std::ptrdiff_t(p.lda) * a_cols + uniform_int(rng, 0, 5);
  p.sb = shared_b ? 0 : std::ptrdiff_t(p.ldb) * b_cols + uniform_int(rng, 0, 5);
  p.sc = std::ptrdiff_t(p.ldc) * p.n + uniform_int(rng, 1, 5);
  p.alpha = bernoulli(rng, 0.5) ? T(1) : static_cast<T>(uniform(rng, -2.0, 2.0));
  p.beta = bernoulli(rng, 0.5) ? T(0) : static_cast<T>(uniform(rng, -2.0, 2.0));
  auto fill = [&](std::vector<T>& v, std::size_t size) {
    v.resize(size);
    for (auto& x : v) x = static_cast<T>(normal(rng));
  };
  fill(p.A, static_cast<std::size_t>(std::max<std::ptrdiff_t>(p.sa, 0) * (p.batch - 1) +
                                     std::ptrdiff_t(p.lda) * std::max(a_cols, 1)));
  fill(p.B, static_cast<std::size_t>(std::max<std::ptrdiff_t>(p.sb, 0) * (p.batch - 1) +
                                     std::ptrdiff_t(p.ldb) * std::max(b_cols, 1)));
  p.C.assign(static_cast<std::size_t>(p.sc * p.batch), static_cast<T>(kSentinel));
  for (int b = 0; b < p.batch; ++b)
    for (int j = 0; j < p.n; ++j)
      for (int i = 0; i < p.m; ++i)
        p.C[static_cast<std::size_t>(b * p.sc + j * p.ldc + i)] = static_cast<T>(normal(rng));
  return p;
}

enum class Impl { Fast, Portable, Reference };

template <class T>
std::vector<T> run(const Problem<T>& p, Impl impl) {
  std::vector<T> c = p.C;
  auto fn = impl == Impl::Fast       ? &bgemm<T>
            : impl == Impl::Portable ? &bgemm_portable<T>
                                     : &bgemm_reference<T>;
  fn(p.ta, p.tb, p.m, p.n, p.k, p.alpha, p.A.data(), p.lda, p.sa, p.B.data(), p.ldb, p.sb, p.beta,
     c.data(), p.ldc, p.sc, p.batch);
  return c;
}

// Error bound for C_b(i, j) (see kUlpsPerTerm).
template <class T>
double bound(const Problem<T>& p, int b, int i, int j) {
  const T* a = p.A.data() + b * p.sa;
  const T* bb = p.B.data() + b * p.sb;
  double mag = 0;
  for (int q = 0; q < p.k; ++q) {
    const T aiq = p.ta == Trans::No ? a[i + q * p.lda] : a[q + i * p.lda];
    const T bqj = p.tb == Trans::No ? bb[q + j * p.ldb] : bb[j + q * p.ldb];
    mag += std::abs(double(aiq) * double(bqj));
  }
  const double c0 = p.C[static_cast<std::size_t>(b * p.sc + j * p.ldc + i)];
  mag = std::abs(double(p.alpha)) * mag + std::abs(double(p.beta) * c0);
  return kUlpsPerTerm * (p.k + 2) * std::numeric_limits<T>::epsilon() * mag +
         std::numeric_limits<T>::min();
}

template <class T>
void expect_agrees(const Problem<T>& p, const std::vector<T>& got, const std::vector<T>& want,
                   const std::string& what) {
  for (std::size_t e = 0; e < got.size(); ++e) {
    const auto b = static_cast<int>(static_cast<std::ptrdiff_t>(e) / p.sc);
    const auto r = static_cast<std::ptrdiff_t>(e) % p.sc;
    const int j = static_cast<int>(r / p.ldc), i = static_cast<int>(r % p.ldc);
    if (j >= p.n || i >= p.m) {  // padding between and after the C blocks
      ASSERT_EQ(got[e], static_cast<T>(kSentinel)) << what << " wrote padding at " << e;
      continue;
    }
    ASSERT_LE(std::abs(double(got[e]) - double(want[e])), bound(p, b, i, j))
        << what << " C[" << b << "](" << i << "," << j << ")";
  }
}

// Sizes around the kernels' edges: 1, 2, 3, odd, vector widths 8 and 16 and their neighbours,
// several row vectors (33, 70) and column tiles (20, 40).
const std::vector<int> kSmallSizes = {1, 2, 3, 5, 7, 8, 9, 11, 15, 16, 17, 20, 21, 33, 40, 70};

template <class T>
void check_random(std::uint64_t first_seed, int count, const std::vector<int>& sizes) {
  for (int t = 0; t < count; ++t) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(t);
    const Problem<T> p = make_problem<T>(seed, sizes);
    const auto want = run(p, Impl::Reference);
    expect_agrees(p, run(p, Impl::Fast), want, "bgemm " + p.describe(seed));
    expect_agrees(p, run(p, Impl::Portable), want, "bgemm_portable " + p.describe(seed));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(Bgemm, FloatMatchesReferenceOnRandomSmallShapes) {
  check_random<float>(1000, 300, kSmallSizes);
}

TEST(Bgemm, DoubleMatchesReferenceOnRandomSmallShapes) {
  check_random<double>(2000, 300, kSmallSizes);
}

TEST(Bgemm, LargeShapesThroughEigenMatchReference) {
  // m or k above kBgemmSmallLimit route to Eigen's blocked GEMM.
  const std::vector<int> sizes = {3, kBgemmSmallLimit + 1, kBgemmSmallLimit + 30};
  check_random<float>(3000, 6, sizes);
  check_random<double>(4000, 6, sizes);
}

TEST(Bgemm, ZeroInnerDimensionScalesC) {
  // k = 0: C = beta * C (and C = 0 when beta = 0).
  std::vector<double> c = {1, 2, 3, 4};
  bgemm<double>(Trans::No, Trans::No, 2, 1, 0, 1.0, nullptr, 2, 0, nullptr, 1, 0, 0.5, c.data(), 2,
                2, 2);
  EXPECT_EQ(c, (std::vector<double>{0.5, 1, 1.5, 2}));
  bgemm<double>(Trans::No, Trans::No, 2, 1, 0, 1.0, nullptr, 2, 0, nullptr, 1, 0, 0.0, c.data(), 2,
                2, 2);
  EXPECT_EQ(c, (std::vector<double>{0, 0, 0, 0}));
}

TEST(Bgemm, BetaZeroIgnoresNanInC) {
  const std::vector<float> a = {1, 2, 3, 4}, b = {1, 0, 0, 1};  // 2x2, B = identity
  for (auto fn : {&bgemm<float>, &bgemm_portable<float>, &bgemm_reference<float>}) {
    std::vector<float> c(4, std::numeric_limits<float>::quiet_NaN());
    fn(Trans::No, Trans::No, 2, 2, 2, 1.0f, a.data(), 2, 0, b.data(), 2, 0, 0.0f, c.data(), 2, 4,
       1);
    EXPECT_EQ(c, a);
  }
}

TEST(Bgemm, RejectsBadLeadingDimensionsAndOverlappingC) {
  std::vector<float> x(64);
  EXPECT_THROW(bgemm<float>(Trans::No, Trans::No, 4, 4, 4, 1.f, x.data(), 3, 0, x.data(), 4, 0, 0.f,
                            x.data(), 4, 16, 1),
               std::invalid_argument);
  EXPECT_THROW(bgemm<float>(Trans::No, Trans::Yes, 4, 5, 4, 1.f, x.data(), 4, 0, x.data(), 4, 0,
                            0.f, x.data(), 4, 20, 1),
               std::invalid_argument);
  EXPECT_THROW(bgemm<float>(Trans::No, Trans::No, 2, 2, 2, 1.f, x.data(), 2, 4, x.data(), 2, 4, 0.f,
                            x.data(), 2, 0, 2),
               std::invalid_argument);
}

// Restores the thread count when a test ends.
struct ThreadCount {
  int saved = num_threads();
  ~ThreadCount() { set_num_threads(saved); }
};

template <class T>
void check_bitwise_threads(std::uint64_t first_seed, const std::vector<int>& sizes, int batch) {
  ThreadCount guard;
  for (int t = 0; t < 20; ++t) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(t);
    // Enough matrices that both threads get work (the pool keeps tiny batches on one thread).
    const Problem<T> p = make_problem<T>(seed, sizes, batch);
    for (Impl impl : {Impl::Fast, Impl::Portable}) {
      set_num_threads(1);
      const auto one = run(p, impl);
      set_num_threads(2);
      const auto two = run(p, impl);
      ASSERT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(T)))
          << "1 vs 2 threads differ, " << p.describe(seed);
    }
  }
}

TEST(Bgemm, BitwiseIdenticalForOneAndTwoThreads) {
  check_bitwise_threads<float>(5000, kSmallSizes, 777);
  check_bitwise_threads<double>(6000, kSmallSizes, 777);
  check_bitwise_threads<double>(7000, {kBgemmSmallLimit + 3}, 5);
}

TEST(Bgemm, PackedConvenienceMatchesGeneralCall) {
  const int m = 11, n = 20, k = 11, batch = 3;
  std::vector<float> a(std::size_t(m * k * batch)), b(std::size_t(k * n * batch));
  for (std::size_t e = 0; e < a.size(); ++e) a[e] = static_cast<float>(std::sin(double(e)));
  for (std::size_t e = 0; e < b.size(); ++e) b[e] = static_cast<float>(std::cos(double(e)));
  std::vector<float> c1(std::size_t(m * n * batch)), c2(c1.size());
  bgemm_packed(m, n, k, a.data(), b.data(), c1.data(), batch);
  bgemm<float>(Trans::No, Trans::No, m, n, k, 1.f, a.data(), m, m * k, b.data(), k, k * n, 0.f,
               c2.data(), m, m * n, batch);
  EXPECT_EQ(c1, c2);
}

}  // namespace
}  // namespace attnlab
