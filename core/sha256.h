#pragma once
// SHA-256 (FIPS 180-4), to check data files against their published digests before use.
#include <string>
#include <string_view>

namespace attnlab {

// The digest of `bytes` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace attnlab
