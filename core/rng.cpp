#include "core/rng.h"

#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <stdexcept>
#include <string>

namespace attnlab {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t stream_seed(std::uint64_t seed, std::string_view name, std::uint64_t index) {
  return splitmix64(splitmix64(seed ^ fnv1a64(name)) + index);
}

Rng make_stream(std::uint64_t seed, std::string_view name, std::uint64_t index) {
  return Rng(stream_seed(seed, name, index));
}

double normal(Rng& rng) { return boost::random::normal_distribution<double>(0.0, 1.0)(rng); }

double uniform(Rng& rng, double lo, double hi) {
  // Boost redraws until the result is < hi, so lo == hi, lo > hi, a NaN bound or an infinite
  // width would loop forever. lo == hi returns lo without a draw; no existing output changes,
  // since such calls never returned before.
  if (lo == hi) return lo;
  if (!(lo < hi) || !std::isfinite(hi - lo))
    throw std::invalid_argument("uniform(lo, hi) needs finite lo <= hi, got lo = " +
                                std::to_string(lo) + ", hi = " + std::to_string(hi));
  return boost::random::uniform_real_distribution<double>(lo, hi)(rng);
}

std::int64_t uniform_int(Rng& rng, std::int64_t lo, std::int64_t hi) {
  if (lo > hi)
    throw std::invalid_argument("uniform_int(lo, hi) needs lo <= hi, got lo = " +
                                std::to_string(lo) + ", hi = " + std::to_string(hi));
  return boost::random::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

bool bernoulli(Rng& rng, double p) { return boost::random::bernoulli_distribution<double>(p)(rng); }

}  // namespace attnlab
