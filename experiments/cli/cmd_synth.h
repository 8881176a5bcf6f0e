#pragma once
// `attnlab synth var|ssm|regression [options] --seed S --out FILE.csv`: writes generated data as
// CSV and the ground truth as FILE.json beside it, both atomically (core/io.h). Bad input throws
// InputError with a one-line message naming the option and its allowed range.
#include <CLI/CLI.hpp>
#include <string>

namespace attnlab {

void add_synth_command(CLI::App& app);

// Runs `attnlab <command_line>` restricted to the synth command, in process (for tests), e.g.
// run_synth_command_line("synth var --dim 3 --order 2 --seed 7 --out x.csv").
void run_synth_command_line(const std::string& command_line);

}  // namespace attnlab
