#pragma once
// Boost's mt19937_64 (n = 312, m = 156, r = 31, the Matsumoto-Nishimura 2002 seeding) for 8
// streams at once, one per 64-bit SIMD lane: lane v yields exactly the words of
// boost::random::mt19937_64 seeded with seeds[v] (tests/rng_test.cpp checks it over several
// blocks). Used where many independent streams are drawn in the same pattern: ICL training
// sequences (core/normal_lanes.h, synth/regression.cpp) and SAMoVAR dropout masks
// (models/samovar/batched.cpp).
#include <cstdint>

namespace attnlab {

typedef std::uint64_t U64x8 __attribute__((vector_size(64)));
inline constexpr int kMtLanes = 8;
inline constexpr int kMtN = 312, kMtM = 156;
inline constexpr std::uint64_t kMtA = 0xb5026f5aa96619e9ULL, kMtF = 6364136223846793005ULL;
inline constexpr std::uint64_t kMtUpper = ~std::uint64_t(0) << 31, kMtLower = ~kMtUpper;

// Word is one std::uint64_t or a U64x8.
// seed(value) then normalize_state() (boost/random/mersenne_twister.hpp). Boost's all-zero state
// fix-up never applies: x[i] = f (x[i-1] ^ ...) + i, so x[1] = 0 implies x[2] = 2.
template <class Word>
void mt_seed(Word* x, Word value) {
  x[0] = value;
  for (int i = 1; i < kMtN; ++i)
    x[i] = kMtF * (x[i - 1] ^ (x[i - 1] >> 62)) + static_cast<std::uint64_t>(i);
  Word y0 = x[kMtM - 1] ^ x[kMtN - 1];
  const Word top = y0 >> 63;  // 1 where bit 63 is set
  y0 = ((y0 ^ (kMtA & -top)) << 1) | top;
  x[0] = (x[0] & kMtUpper) | (y0 & kMtLower);
}

template <class Word>
void mt_twist(Word* x) {
  auto step = [&](int j, const Word& next, const Word& far) {
    const Word y = (x[j] & kMtUpper) | (next & kMtLower);
    x[j] = far ^ (y >> 1) ^ (kMtA & -(next & 1));
  };
  for (int j = 0; j < kMtN - kMtM; ++j) step(j, x[j + 1], x[j + kMtM]);
  for (int j = kMtN - kMtM; j < kMtN - 1; ++j) step(j, x[j + 1], x[j - (kMtN - kMtM)]);
  step(kMtN - 1, x[0], x[kMtM - 1]);
}

template <class Word>
Word mt_temper(Word z) {
  z ^= (z >> 29) & 0x5555555555555555ULL;
  z ^= (z << 17) & 0x71d67fffeda60000ULL;
  z ^= (z << 37) & 0xfff7eee000000000ULL;
  return z ^ (z >> 43);
}

// 8 engines advanced together, every block twisted in SIMD. About 40 KB: keep it on the heap.
class MtLanes8 {
 public:
  void seed(const std::uint64_t (&seeds)[kMtLanes]) {
    U64x8 s;
    for (int v = 0; v < kMtLanes; ++v) s[v] = seeds[v];
    mt_seed(x_, s);
    pos_ = kMtN;  // the first next() twists, as Boost's engine does
  }
  // The next word of every lane.
  const U64x8& next() {
    if (pos_ == kMtN) {
      mt_twist(x_);
      for (int i = 0; i < kMtN; ++i) out_[i] = mt_temper(x_[i]);
      pos_ = 0;
    }
    return out_[pos_++];
  }

 private:
  U64x8 x_[kMtN];
  U64x8 out_[kMtN];
  int pos_ = kMtN;
};

}  // namespace attnlab
