// Fuzzes `attnlab synth` (experiments/cli/cmd_synth.h) from its command line.
//
// Input: the words after `attnlab synth`, one per line, e.g. "var\n--dim\n3\n--seed\n7". Every
// --out value is moved into this process's scratch folder ($TMPDIR/attnlab-fuzz-synth.<pid>,
// '/' replaced by '_'), and `--out <scratch>/out.csv` is added when none is given. Each input is
// parsed and validated (options, memory estimate, output paths) with CLI11 as `attnlab` does;
// jobs of at most kMaxWork operations (SynthJob::work) are also generated, once with one thread
// and once with two.
//  - Only CLI::ParseError and a one-line InputError escape; after an error no file is left.
//  - A generated job wrote exactly the CSV and its JSON sidecar, the same bytes at both thread
//    counts; the sidecar is strict JSON naming the CSV; the CSV is a rectangle of finite numbers
//    under its header, with as many rows as the sidecar says.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "core/strict_json.h"
#include "core/thread_pool.h"
#include "experiments/cli/cmd_synth.h"
#include "fuzz/fuzz_check.h"

namespace {

namespace fs = std::filesystem;
using attnlab::fuzz::expect;
using attnlab::fuzz::finding;

// Largest job generated (SynthJob::work): at most ~50 ms here (sanitizers, two thread counts),
// so that fuzzing keeps its pace.
constexpr double kMaxWork = 5e5;

// libFuzzer ends with _Exit, so nothing removes this folder at exit: it is emptied after each
// input, and a new process removes the folders of processes that are gone.
const fs::path& scratch() {
  static const fs::path dir = [] {
    const std::string prefix = "attnlab-fuzz-synth.";
    const fs::path base = fs::temp_directory_path();
    for (const auto& e : fs::directory_iterator(base)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
        fs::remove_all(e.path());
    }
    const fs::path d = base / (prefix + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

void clear_scratch() {
  for (const auto& e : fs::directory_iterator(scratch())) fs::remove_all(e.path());
}

std::vector<std::string> scratch_files() {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(scratch()))
    out.push_back(fs::relative(e.path(), scratch()).string());
  return out;
}

// An --out value inside the scratch folder; empty stays empty (an error to exercise).
std::string confined(std::string value) {
  if (value.empty()) return value;
  for (char& c : value)
    if (c == '/') c = '_';
  return (scratch() / value).string();
}

std::vector<std::string> command_line(std::string_view input) {
  std::vector<std::string> args = {"attnlab", "synth"};
  std::vector<std::string> words;
  for (std::size_t start = 0;;) {
    const auto end = input.find('\n', start);
    words.emplace_back(input.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  bool out = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--out") {
      args.push_back(words[i]);
      if (i + 1 < words.size()) args.push_back(confined(words[++i]));
      out = true;
    } else if (words[i].rfind("--out=", 0) == 0) {
      args.push_back("--out=" + confined(words[i].substr(6)));
      out = true;
    } else {
      args.push_back(words[i]);
    }
  }
  if (!out) {
    args.push_back("--out");
    args.push_back((scratch() / "out.csv").string());
  }
  return args;
}

struct Written {
  std::string csv, json;
};

// Runs the job at `threads` threads and reads back what it wrote, or nothing after an error.
std::optional<Written> generate(const attnlab::SynthJob& job, int threads) {
  clear_scratch();
  attnlab::set_num_threads(threads);
  try {
    job.generate();
  } catch (const attnlab::InputError& e) {  // e.g. --stability reject found no process
    attnlab::fuzz::note_rejection(e.what());
    attnlab::fuzz::expect_one_line(e.what(), job.command);
    expect(scratch_files().empty(), job.command + ": files left after " + e.what());
    return std::nullopt;
  } catch (...) {
    finding(job.command + " generate threw " + attnlab::fuzz::current_exception_text());
  }
  const auto files = scratch_files();
  expect(files.size() == 2, job.command + " wrote " + std::to_string(files.size()) + " files");
  fs::path csv;
  for (const auto& f : files)
    if (fs::path(f).extension() == ".csv") csv = scratch() / f;
  expect(!csv.empty(), job.command + " wrote no CSV");
  fs::path sidecar = csv;
  sidecar.replace_extension(".json");
  expect(fs::exists(sidecar), job.command + " wrote no JSON beside the CSV");
  return Written{attnlab::read_file(csv), attnlab::read_file(sidecar)};
}

std::size_t expected_rows(const std::string& command, const nlohmann::json& truth) {
  if (command == "synth var")
    return truth.at("series").get<std::size_t>() * truth.at("length").get<std::size_t>();
  if (command == "synth ssm") return truth.at("n").get<std::size_t>();
  return truth.at("tasks").get<std::size_t>() * (truth.at("n").get<std::size_t>() + 1);
}

void check_outputs(const attnlab::SynthJob& job, const Written& w) {
  nlohmann::json truth;
  try {
    truth = attnlab::parse_json_strict(w.json, "sidecar");
    expect(truth.at("csv").get<std::string>().size() > 4, job.command + ": sidecar csv name");
  } catch (...) {
    finding(job.command + ": bad sidecar: " + attnlab::fuzz::current_exception_text());
  }
  expect(!w.csv.empty() && w.csv.back() == '\n', job.command + ": CSV without final newline");
  std::size_t rows = 0, columns = 0;
  for (std::size_t start = 0; start < w.csv.size();) {
    const std::size_t end = w.csv.find('\n', start);
    const std::string line = w.csv.substr(start, end - start);
    start = end + 1;
    std::size_t cells = 1;
    for (std::size_t c = 0, from = 0;; ++c) {
      const std::size_t comma = line.find(',', from);
      const std::string cell = line.substr(from, comma - from);
      if (rows > 0) {
        char* stop = nullptr;
        const double v = std::strtod(cell.c_str(), &stop);
        if (cell.empty() || *stop != '\0' || !std::isfinite(v))
          finding(job.command + ": CSV cell '" + cell + "' in row " + std::to_string(rows));
      }
      if (comma == std::string::npos) break;
      from = comma + 1;
      ++cells;
    }
    if (rows == 0) columns = cells;
    if (cells != columns)
      finding(job.command + ": CSV row " + std::to_string(rows) + " has " + std::to_string(cells) +
              " cells, header " + std::to_string(columns));
    ++rows;
  }
  expect(rows - 1 == expected_rows(job.command, truth),
         job.command + ": " + std::to_string(rows - 1) + " CSV rows");
}

void run_job(const attnlab::SynthJob& job) {
  expect(!job.command.empty() && std::isfinite(job.work) && job.work > 0,
         "job without command or work estimate");
  attnlab::fuzz::note(job.command + ": valid, work " + std::to_string(job.work) +
                      (job.work > kMaxWork ? ", not generated" : ", generating"));
  if (job.work > kMaxWork) return;
  // Starting at the previous job's thread count rebuilds the pool once per job, not twice.
  static int threads = 1;
  const auto first = generate(job, threads);
  threads = 3 - threads;
  const auto second = generate(job, threads);
  expect(first.has_value() == second.has_value(),
         job.command + ": an error at one thread count only");
  if (!first) return;
  expect(first->csv == second->csv && first->json == second->json,
         job.command + ": outputs differ between 1 and 2 threads");
  check_outputs(job, *first);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  clear_scratch();
  const auto args = command_line(std::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  CLI::App app{"attnlab"};
  app.require_subcommand(1);
  attnlab::add_synth_command(app, run_job);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
    expect(scratch_files().empty(), "files left after a CLI11 parse error");
  } catch (const attnlab::InputError& e) {
    attnlab::fuzz::note_rejection(e.what());
    attnlab::fuzz::expect_one_line(e.what(), "attnlab synth");
    expect(std::string_view(e.what()).find("synth ") == 0 ||
               std::string_view(e.what()).find("SSM generator: ") == 0,
           "error that names no command: " + std::string(e.what()));
    expect(scratch_files().empty(), std::string("files left after: ") + e.what());
  } catch (...) {
    finding("attnlab synth threw " + attnlab::fuzz::current_exception_text());
  }
  clear_scratch();
  return 0;
}
