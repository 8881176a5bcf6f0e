#include "core/normal_lanes.h"

#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cstring>
#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>
#endif
#include <memory>

namespace attnlab {

namespace {

// Boost's ziggurat for N(0, 1) (boost/random/normal_distribution.hpp, detail/int_float_pair.hpp)
// turns one 64-bit word u into b = u & 255, r = double((u & ~2^11) >> 8) * 2^-56, i = b >> 1,
// x = r * table_x[i], and returns x * (2 (b & 1) - 1) * 1 + 0 when x < table_x[i + 1] (98.8 % of
// words); otherwise it draws more words. zig_fast evaluates that fast path for 8 words: the
// candidate values and a mask of the words it accepts (no mask without AVX-512: Boost decides).
#if defined(__AVX512F__) && defined(__AVX512DQ__)
void zig_fast(const U64x8& word, double* z, std::uint8_t& ok) {
  const double* tx = boost::random::detail::normal_table<double>::table_x;
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i u = reinterpret_cast<__m512i>(word);
  const __m512i b = _mm512_and_si512(u, _mm512_set1_epi64(255));
  const __m512i i = _mm512_srli_epi64(b, 1);
  const __m512i mant = _mm512_srli_epi64(_mm512_andnot_si512(_mm512_set1_epi64(1 << 11), u), 8);
  const __m512d r = _mm512_mul_pd(_mm512_cvtepu64_pd(mant), _mm512_set1_pd(0x1p-56));
  const __m512d x = _mm512_mul_pd(r, _mm512_i64gather_pd(i, tx, 8));
  ok = _mm512_cmp_pd_mask(x, _mm512_i64gather_pd(_mm512_add_epi64(i, one), tx, 8), _CMP_LT_OQ);
  const __m512i sign = _mm512_sub_epi64(_mm512_slli_epi64(_mm512_and_si512(b, one), 1), one);
  const __m512d signed_x = _mm512_mul_pd(x, _mm512_cvtepi64_pd(sign));
  _mm512_storeu_pd(z, _mm512_add_pd(signed_x, _mm512_setzero_pd()));  // * sigma 1 + mean 0
}
#else
void zig_fast(const U64x8&, double* z, std::uint8_t& ok) {
  for (int v = 0; v < kMtLanes; ++v) z[v] = 0.0;
  ok = 0;
}
#endif

bool fast_path_enabled() {
  static const bool enabled = normal_lanes_match_boost();
  return enabled;
}

}  // namespace

void NormalLanes::seed_words(const std::uint64_t (&seeds)[kMtLanes], int zig_words) {
  U64x8 s;
  for (int v = 0; v < kMtLanes; ++v) s[v] = seeds[v];
  mt_seed(x_, s);
  mt_twist(x_);
  for (int i = 0; i < kMtN; ++i) out_[i] = mt_temper(x_[i]);
  zig_words = std::clamp(zig_words, 0, kMtN);
  for (int i = 0; i < zig_words; ++i) zig_fast(out_[i], z_[i], ok_[i]);
  std::fill(ok_ + zig_words, ok_ + kMtN, std::uint8_t(0));
}

void NormalLanes::seed(const std::uint64_t (&seeds)[kMtLanes], int expected) {
  seed_words(seeds, fast_path_enabled() ? expected : 0);
}

LaneEngine::result_type LaneEngine::operator()() {
  if (pos_ == kMtN) next_block();
  const std::size_t p = static_cast<std::size_t>(pos_++);
  return state_.empty() ? group_.out_[p][lane_] : block_[p];
}

void LaneEngine::normals(double* out, int count) {
  boost::random::normal_distribution<double> normal01(0.0, 1.0);
  int pos = pos_;
  for (int k = 0; k < count; ++k) {
    if (state_.empty() && pos < kMtN && (group_.ok_[pos] >> lane_ & 1u) != 0) {
      out[k] = group_.z_[pos++][lane_];
    } else {
      pos_ = pos;
      out[k] = normal01(*this);
      pos = pos_;
    }
  }
  pos_ = pos;
}

void LaneEngine::next_block() {
  if (state_.empty()) {
    state_.resize(static_cast<std::size_t>(kMtN));
    block_.resize(static_cast<std::size_t>(kMtN));
    for (std::size_t i = 0; i < state_.size(); ++i) state_[i] = group_.x_[i][lane_];
  }
  mt_twist(state_.data());
  for (std::size_t i = 0; i < state_.size(); ++i) block_[i] = mt_temper(state_[i]);
  pos_ = 0;
}

bool normal_lanes_match_boost() {
  // 8 streams, 400 normals each (past the first 312-word block), fast path forced on.
  constexpr int kDraws = 400;
  std::uint64_t seeds[kMtLanes];
  for (int v = 0; v < kMtLanes; ++v) seeds[v] = 0x9e3779b97f4a7c15ULL * (v + 1);
  auto lanes = std::make_unique<NormalLanes>();
  lanes->seed_words(seeds, kMtN);
  double got[kDraws];
  for (int v = 0; v < kMtLanes; ++v) {
    LaneEngine eng(*lanes, v);
    eng.normals(got, kDraws);
    boost::random::mt19937_64 ref(seeds[v]);
    boost::random::normal_distribution<double> normal01(0.0, 1.0);
    for (int k = 0; k < kDraws; ++k) {
      const double want = normal01(ref);
      if (std::memcmp(&want, &got[k], sizeof want) != 0) return false;
    }
  }
  return true;
}

}  // namespace attnlab
