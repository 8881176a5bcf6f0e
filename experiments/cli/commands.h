#pragma once
// Subcommands of the `attnlab` executable. Each adds itself to the app; errors in user input are
// thrown as InputError (exit 2); a verdict mismatch is CLI::RuntimeError(1).
#include <CLI/CLI.hpp>

namespace attnlab {

void add_list_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_verify_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_synth_command(CLI::App& app);  // experiments/cli/cmd_synth.cpp
void add_bench_command(CLI::App& app);  // experiments/cli/cmd_bench.cpp
void add_plan_commands(CLI::App& app);  // plan, merge, slurm: experiments/cli/cmd_plan.cpp
void add_runs_commands(CLI::App& app);
void add_describe_commands(
    CLI::App& app);  // describe, new-claim: experiments/cli/cmd_claims.cpp  // runs, compare,
                     // export: experiments/cli/cmd_runs.cpp

}  // namespace attnlab
