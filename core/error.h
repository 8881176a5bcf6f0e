#pragma once
// Errors that reach the user. Both map to exit status 2 with a one-line message.
#include <stdexcept>
#include <string>

namespace attnlab {

// Bad input: a CLI option, a config key, a value out of range, an unwritable path.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A NaN or Inf during training or evaluation; the message names the step and the block.
struct NumericError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace attnlab
