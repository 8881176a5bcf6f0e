#include "synth/ett.h"

#include <charconv>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/io.h"
#include "core/sha256.h"

namespace attnlab::ett {

namespace {

// data/ett/README.md: the digests of the files of zhouhaoyi/ETDataset, ETT-small/.
const std::map<std::string, std::string>& digests() {
  static const std::map<std::string, std::string> d = {
      {"ETTh1", "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"},
      {"ETTh2", "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b"}};
  return d;
}

constexpr std::string_view kHeader = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT";
constexpr int kTrainEnd = 8640, kValEnd = 11520, kTestEnd = 14400;  // 12/4/4 months of 30 days

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [k, v] : digests()) n.push_back(k);
    return n;
  }();
  return names;
}

Series load(const std::filesystem::path& dir, const std::string& name) {
  const auto it = digests().find(name);
  if (it == digests().end())
    throw InputError("ETT dataset '" + name + "' is unknown (known: " + join(dataset_names()) +
                     ")");
  const std::filesystem::path file = dir / (name + ".csv");
  if (!std::filesystem::exists(file))
    throw InputError(file.string() + " is missing: copy the unchanged file from the ETDataset " +
                     "repository (see data/ett/README.md)");
  const std::string text = read_file(file);
  const std::string found = sha256_hex(text);
  if (found != it->second)
    throw InputError(file.string() + " is not the published " + name + ".csv: sha256 " + found +
                     ", expected " + it->second + " (see data/ett/README.md)");
  return parse(text, name, file.string());
}

Series parse(std::string_view text, const std::string& name, const std::string& where, int rows) {
  Series s;
  s.name = name;
  s.values.resize(rows, kColumns);
  std::size_t pos = 0;
  int line_no = 0;
  auto next_line = [&]() -> std::string_view {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  auto fail = [&](const std::string& what) {
    throw InputError(where + ":" + std::to_string(line_no) + ": " + what);
  };
  if (text.empty()) {
    line_no = 1;
    fail("empty file (expected the header '" + std::string(kHeader) + "')");
  }
  if (next_line() != kHeader) fail("the header is not '" + std::string(kHeader) + "'");
  s.columns = {"HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"};
  for (int r = 0; r < rows; ++r) {
    if (pos >= text.size())
      fail("the file ends after " + std::to_string(r) + " rows, expected " + std::to_string(rows));
    const std::string_view line = next_line();
    std::size_t start = line.find(',');
    if (start == 0 || start == std::string_view::npos) fail("expected a date and 7 numbers");
    for (int c = 0; c < kColumns; ++c) {
      const std::size_t from = start + 1;
      const std::size_t to = std::min(line.find(',', from), line.size());
      if (from > line.size() || (c + 1 < kColumns) != (to < line.size()))
        fail("expected a date and 7 numbers, comma-separated");
      const std::string_view field = line.substr(from, to - from);
      double v = 0;
      const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
      if (field.empty() || ec != std::errc() || end != field.data() + field.size() ||
          !std::isfinite(v))
        fail("column " + s.columns[static_cast<std::size_t>(c)] + " is '" + std::string(field) +
             "', not a finite number");
      s.values(r, c) = v;
      start = to;
    }
  }
  if (pos < text.size() && text.find_first_not_of("\r\n", pos) != std::string_view::npos) {
    next_line();
    fail("more than " + std::to_string(rows) + " rows");
  }
  return s;
}

const char* split_name(Split s) {
  switch (s) {
    case Split::Train:
      return "train";
    case Split::Val:
      return "val";
    case Split::Test:
      return "test";
  }
  return "?";
}

Rows split_rows(Split s, int lookback) {
  if (lookback < 1 || lookback > kTrainEnd)
    throw InputError("ETT lookback " + std::to_string(lookback) + " is outside [1, " +
                     std::to_string(kTrainEnd) + "]");
  switch (s) {
    case Split::Train:
      return {0, kTrainEnd};
    case Split::Val:
      return {kTrainEnd - lookback, kValEnd};
    case Split::Test:
      return {kValEnd - lookback, kTestEnd};
  }
  return {0, 0};
}

int window_count(Split s, int lookback, int horizon) {
  const Rows r = split_rows(s, lookback);
  const int n = r.end - r.begin - lookback - horizon + 1;
  if (horizon < 1 || n < 1)
    throw InputError("ETT " + std::string(split_name(s)) + " split has no window of lookback " +
                     std::to_string(lookback) + " and horizon " + std::to_string(horizon) +
                     " (it holds rows [" + std::to_string(r.begin) + ", " + std::to_string(r.end) +
                     "))");
  return n;
}

Scaler fit_scaler(const Eigen::MatrixXd& values) {
  if (values.rows() < kTrainEnd)
    throw InputError("ETT scaler: the series has " + std::to_string(values.rows()) +
                     " rows, fewer than the " + std::to_string(kTrainEnd) + " train rows");
  const auto train = values.topRows(kTrainEnd);
  Scaler s;
  s.mean = train.colwise().mean();
  s.std = ((train.rowwise() - s.mean).array().square().colwise().sum() / double(kTrainEnd))
              .sqrt()
              .matrix();
  for (Eigen::Index c = 0; c < s.std.size(); ++c)
    if (!(s.std[c] > 0))
      throw InputError("ETT scaler: column " + std::to_string(c) +
                       " is constant on the train rows");
  return s;
}

Eigen::MatrixXd standardise(const Eigen::MatrixXd& values, const Scaler& s) {
  return ((values.rowwise() - s.mean).array().rowwise() / s.std.array()).matrix();
}

}  // namespace attnlab::ett
