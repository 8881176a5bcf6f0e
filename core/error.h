#pragma once
// Errors that reach the user. Both map to exit status 2 with a one-line message.
#include <stdexcept>
#include <string>

namespace attnlab {

// `message` on one line: control characters, which messages echoing user text (a JSON key with
// "\n", a `--set` value) may carry, become escapes such as \n and \x01.
inline std::string one_line(const std::string& message) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += {'\\', 'x', kHex[u >> 4], kHex[u & 15]};
    }
  }
  return out;
}

// Bad input: a CLI option, a config key, a value out of range, an unwritable path. The message
// is kept to one line (one_line).
struct InputError : std::runtime_error {
  explicit InputError(const std::string& message) : std::runtime_error(one_line(message)) {}
};

// A NaN or Inf during training or evaluation; the message names the step and the block.
struct NumericError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace attnlab
