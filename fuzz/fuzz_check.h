#pragma once
// Shared by the fuzz targets: how a broken invariant or an unexpected exception becomes a
// libFuzzer finding (abort, so libFuzzer saves the input as crash-<sha1>).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

namespace attnlab::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\nFUZZ FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void expect(bool ok, const std::string& what) {
  if (!ok) finding(what);
}

// The exception in flight, as text for a finding; call from a catch block only.
inline std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return std::string("exception (") + typeid(e).name() + "): " + e.what();
  } catch (...) {
    return "exception of a non-std type";
  }
}

// ATTNLAB_FUZZ_VERBOSE=1: the targets say what they did with an input (for writing seeds).
inline void note(const std::string& what) {
  static const bool verbose = std::getenv("ATTNLAB_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s\n", what.c_str());
}
inline void note_rejection(std::string_view message) { note("rejected: " + std::string(message)); }

// The house rule for errors that reach the user: one line (core/error.h).
inline void expect_one_line(std::string_view message, const std::string& context) {
  expect(message.find('\n') == std::string_view::npos,
         context + ": error message spans several lines: " + std::string(message));
}

}  // namespace attnlab::fuzz
