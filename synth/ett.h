#pragma once
// The ETT series (ETTh1, ETTh2: hourly loads and oil temperature of two electricity
// transformers; Zhou et al., AAAI 2021), copied unchanged into data/ett/ (data/ett/README.md has
// the source, the license and the digests): reading with a digest check, the standard split,
// standard scaling and forecast windows. The only real data attnlab uses; everything else in
// synth/ is generated.
#include <Eigen/Dense>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace attnlab::ett {

inline constexpr int kColumns = 7;   // HUFL, HULL, MUFL, MULL, LUFL, LULL, OT
inline constexpr int kRows = 17420;  // hourly rows of each file (header excluded)

struct Series {
  std::string name;                  // "ETTh1"
  std::vector<std::string> columns;  // the 7 value columns, in file order
  Eigen::MatrixXd values;            // (kRows, kColumns), as written in the file
};

// The datasets attnlab knows, with the sha256 of their published files.
const std::vector<std::string>& dataset_names();  // {"ETTh1", "ETTh2"}

// Reads `dir`/NAME.csv, checks its sha256 against the published digest, then parses it.
// InputError, one line naming the file: unknown name (and the known ones), missing or unreadable
// file, altered file (the digest found and the one expected), or a malformed line.
Series load(const std::filesystem::path& dir, const std::string& name);

// Parses text of the ETT layout (the header `date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT`, then rows
// of a date and seven finite numbers; kRows rows unless `rows` says otherwise) without the digest
// check. InputError naming `where`, the line and what is wrong.
Series parse(std::string_view text, const std::string& name, const std::string& where,
             int rows = kRows);

enum class Split { Train, Val, Test };
const char* split_name(Split s);  // "train" | "val" | "test"

// Rows [begin, end) of a split for lookback L (the Informer / Time-Series-Library hourly
// convention): train [0, 8640), val [8640 - L, 11520), test [11520 - L, 14400).
// InputError unless 1 <= L <= 8640.
struct Rows {
  int begin, end;
};
Rows split_rows(Split s, int lookback);

// Forecast windows of a split: window i has input rows [begin + i, begin + i + L) and target
// rows [begin + i + L, begin + i + L + H), i = 0 .. count - 1, count = end - begin - L - H + 1
// (every window kept). InputError naming L and H when the split holds none.
int window_count(Split s, int lookback, int horizon);
inline int window_start(Split s, int lookback, int i) { return split_rows(s, lookback).begin + i; }

// Per-column standard scaling fitted on the train rows [0, 8640): mean and population standard
// deviation (ddof 0), as scikit-learn's StandardScaler, the convention of the published results.
struct Scaler {
  Eigen::RowVectorXd mean, std;
};
Scaler fit_scaler(const Eigen::MatrixXd& values);
Eigen::MatrixXd standardise(const Eigen::MatrixXd& values, const Scaler& s);

}  // namespace attnlab::ett
