#pragma once
// Boost-compatible N(0, 1) draws from 8 mt19937_64 streams at once. NormalLanes seeds, twists and
// tempers the first block of 8 streams together in SIMD lanes (core/mt_lanes.h) and evaluates
// the fast path of Boost's ziggurat for each word; LaneEngine reads one lane as a Boost engine:
// the same words as boost::random::mt19937_64 seeded with that lane's seed, and normals() the
// same doubles as boost::random::normal_distribution<double>(0, 1) drawing from it.
//
// The fast path reads Boost's ziggurat table (boost::random::detail::normal_table, a private
// detail) and mirrors its bit layout. normal_lanes_match_boost() compares it with Boost's own
// distribution once per process; if a future Boost draws differently, the fast path switches
// itself off (every draw then goes through Boost: same numbers, slower) and
// tests/rng_test.cpp fails naming the Boost version.
#include <cstdint>
#include <vector>

#include "core/mt_lanes.h"

namespace attnlab {

class NormalLanes {
 public:
  // Fast-path values for the first min(expected, 312) words of each lane (beyond: Boost decides).
  void seed(const std::uint64_t (&seeds)[kMtLanes], int expected);

 private:
  friend class LaneEngine;
  friend bool normal_lanes_match_boost();
  void seed_words(const std::uint64_t (&seeds)[kMtLanes], int zig_words);
  U64x8 x_[kMtN];             // state after the first twist
  U64x8 out_[kMtN];           // tempered words of the first block
  double z_[kMtN][kMtLanes];  // ziggurat fast-path value of each word
  std::uint8_t ok_[kMtN];     // lanes whose word the fast path accepts
};

class LaneEngine {
 public:
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type(0); }
  LaneEngine(const NormalLanes& group, int lane) : group_(group), lane_(lane) {}
  result_type operator()();
  // `count` draws of Boost's N(0, 1): the precomputed value while the next word is accepted by
  // the fast path, else Boost's own code (which may draw several words).
  void normals(double* out, int count);

 private:
  void next_block();  // past the first block the lane continues alone (scalar twist)
  const NormalLanes& group_;
  int lane_;
  int pos_ = 0;
  std::vector<std::uint64_t> state_, block_;
};

// True when the fast path gives Boost's numbers (checked once, on 8 streams x 2 blocks).
bool normal_lanes_match_boost();

}  // namespace attnlab
