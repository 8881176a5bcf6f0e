// Fuzzes the ETT reader, attnlab::ett::parse (synth/ett.h), without its digest check.
//
// Input: the first byte chooses the number of rows expected (1 + byte % 4); the rest is the file.
//  - Only a one-line InputError escapes, starting "fuzz.csv:<line>: " with a line of the text
//    (or the one after its end).
//  - An accepted text has the header and, on each of the expected rows, a date and seven fields
//    that strtod reads whole as the very numbers stored, all finite; the values written back with
//    17 significant digits parse to the same bits.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "fuzz/fuzz_check.h"
#include "synth/ett.h"

namespace {

using attnlab::fuzz::expect;
using attnlab::fuzz::finding;

constexpr const char* kWhere = "fuzz.csv";

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t end = s.find(sep, pos);
    out.push_back(
        s.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) return out;
    pos = end + 1;
  }
}

void check_error(const std::string& message, std::string_view text) {
  expect(message.find('\n') == std::string::npos, "error message has a line break: " + message);
  const std::string prefix = std::string(kWhere) + ":";
  expect(message.rfind(prefix, 0) == 0, "error does not name the file: " + message);
  char* end = nullptr;
  const long line = std::strtol(message.c_str() + prefix.size(), &end, 10);
  const long lines = static_cast<long>(split(text, '\n').size());
  expect(end != nullptr && *end == ':' && line >= 1 && line <= lines + 1,
         "error names line " + std::to_string(line) + " of a text of " + std::to_string(lines) +
             " lines: " + message);
}

void check_accepted(const attnlab::ett::Series& s, std::string_view text, int rows) {
  expect(s.values.rows() == rows && s.values.cols() == attnlab::ett::kColumns, "wrong shape");
  const auto lines = split(text, '\n');
  expect(static_cast<int>(lines.size()) >= rows + 1, "accepted fewer lines than rows");
  std::string again = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n";
  for (int r = 0; r < rows; ++r) {
    std::string_view line = lines[static_cast<std::size_t>(r) + 1];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto fields = split(line, ',');
    expect(fields.size() == 8 && !fields[0].empty(), "accepted a row without 8 fields");
    again += "d";
    for (int c = 0; c < attnlab::ett::kColumns; ++c) {
      const std::string f(fields[static_cast<std::size_t>(c) + 1]);
      char* end = nullptr;
      const double v = std::strtod(f.c_str(), &end);
      const double got = s.values(r, c);
      expect(std::isfinite(got), "accepted a non-finite value");
      expect(end == f.c_str() + f.size() && v == got,
             "field '" + f + "' read as " + std::to_string(got) + ", strtod reads it otherwise");
      char buf[40];
      std::snprintf(buf, sizeof buf, ",%.17g", got);
      again += buf;
    }
    again += "\n";
  }
  const auto back = attnlab::ett::parse(again, "ETTh1", kWhere, rows);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < attnlab::ett::kColumns; ++c)
      expect(std::signbit(back.values(r, c)) == std::signbit(s.values(r, c)) &&
                 back.values(r, c) == s.values(r, c),
             "a value does not survive writing back with 17 digits");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int rows = 1 + data[0] % 4;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const auto s = attnlab::ett::parse(text, "ETTh1", kWhere, rows);
    check_accepted(s, text, rows);
    attnlab::fuzz::note("accepted " + std::to_string(rows) + " rows");
  } catch (const attnlab::InputError& e) {
    check_error(e.what(), text);
    attnlab::fuzz::note_rejection(e.what());
  } catch (...) {
    finding("unexpected " + attnlab::fuzz::current_exception_text());
  }
  return 0;
}
