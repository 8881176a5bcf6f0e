#pragma once
// `attnlab bench [--json FILE]`: batched-GEMM peer benchmark (bench/bgemm_bench.h).
#include <CLI/CLI.hpp>

namespace attnlab {

void add_bench_command(CLI::App& app);

}  // namespace attnlab
