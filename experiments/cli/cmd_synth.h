#pragma once
// `attnlab synth var|ssm|regression [options] --seed S --out FILE.csv`: writes generated data as
// CSV and the ground truth as FILE.json beside it, both atomically (core/io.h). Bad input throws
// InputError with a one-line message naming the option and its allowed range.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace attnlab {

// A `synth` request that passed every check possible without generating: options converted and
// range-checked, the memory estimate within memory_budget_bytes(), both outputs writable.
struct SynthJob {
  std::string command;  // "synth var"
  // Order of magnitude of the arithmetic `generate` does (with --stability reject: as if every
  // draw were rejected), for callers that keep to small requests (fuzz/fuzz_synth.cpp).
  double work = 0;
  std::function<void()> generate;  // generates and writes the CSV and its JSON ground truth
};

void add_synth_command(CLI::App& app);
// As above, but each generator hands its validated job to `run` instead of generating it.
void add_synth_command(CLI::App& app, std::function<void(const SynthJob&)> run);

// Runs `attnlab <command_line>` restricted to the synth command, in process (for tests), e.g.
// run_synth_command_line("synth var --dim 3 --order 2 --seed 7 --out x.csv").
void run_synth_command_line(const std::string& command_line);

}  // namespace attnlab
