#pragma once
// Named random streams. Every random draw in attnlab comes from a stream derived from
// (run seed, stream name, index) by one fixed rule:
//
//   stream_seed(seed, name, index) = mix(mix(seed ^ fnv1a64(name)) + index)
//
// where mix is the SplitMix64 finaliser and fnv1a64 the 64-bit FNV-1a hash of the name's bytes.
// The engine is Boost's mt19937_64 seeded with that value; distributions are Boost's (the C++
// standard leaves std::normal_distribution's algorithm to the library). Items that are generated
// in parallel take one stream per item (index = item number), so results do not depend on the
// number of threads.
#include <boost/random/mersenne_twister.hpp>
#include <cstdint>
#include <limits>
#include <string_view>

namespace attnlab {

using Rng = boost::random::mt19937_64;

std::uint64_t splitmix64(std::uint64_t x);
std::uint64_t fnv1a64(std::string_view s);
std::uint64_t stream_seed(std::uint64_t seed, std::string_view name, std::uint64_t index = 0);
Rng make_stream(std::uint64_t seed, std::string_view name, std::uint64_t index = 0);

double normal(Rng& rng);  // N(0, 1)
// U[lo, hi); returns lo without a draw when lo == hi. Throws std::invalid_argument (a caller's
// bug, not user input) when lo > hi, a bound is NaN or hi - lo is not finite.
double uniform(Rng& rng, double lo, double hi);
// Inclusive [lo, hi]; throws std::invalid_argument when lo > hi.
std::int64_t uniform_int(Rng& rng, std::int64_t lo, std::int64_t hi);
bool bernoulli(Rng& rng, double p);

// uniform(rng, 0, 1) inline, bit for bit (Boost's generate_uniform_real for a 64-bit integer
// engine: (x - min) / (max - min + 1) * (1 - 0) + 0, drawn again while it rounds to 1), for hot
// loops such as dropout masks. tests/rng_test.cpp checks it against uniform().
inline double uniform01(Rng& rng) {
  static_assert(std::numeric_limits<Rng::result_type>::digits == 64);  // min 0, max 2^64 - 1
  for (;;) {
    const double r = static_cast<double>(rng()) / 18446744073709551616.0 * 1.0 + 0.0;
    if (r < 1.0) return r;
  }
}

}  // namespace attnlab
