#pragma once
// A persistent thread pool. Threads are created once (at the first parallel call or when the
// count changes), never per call. parallel_for splits [0, n) into contiguous ranges, each run by
// exactly one thread; callers must make each index's output independent of the split, so results
// are bitwise identical for any thread count. Reductions use a fixed chunking (see
// parallel_chunks) and are summed by the caller in chunk order.
#include <cstddef>
#include <functional>

namespace attnlab {

// Thread count: set_num_threads(T) with T >= 1; default is $ATTNLAB_THREADS if set, else the
// number of cores.
void set_num_threads(int threads);
int num_threads();
// What num_threads() is before any set_num_threads call: $ATTNLAB_THREADS, else
// $SLURM_CPUS_PER_TASK, else the CPUs in the affinity mask (never the node's total).
int default_num_threads();

// Runs fn(begin, end) over a partition of [0, n) into at most num_threads() contiguous ranges of
// at least `grain` indices. Blocks until all ranges are done. Nested calls run serially.
void parallel_for(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn,
                  std::size_t grain = 1);

// Fixed-size chunking independent of the thread count: calls fn(chunk, begin, end) for
// chunk = 0..ceil(n/chunk_size)-1, in parallel. Use it for deterministic reductions: write one
// partial per chunk, then combine the partials in chunk order on the calling thread.
std::size_t num_chunks(std::size_t n, std::size_t chunk_size);
void parallel_chunks(std::size_t n, std::size_t chunk_size,
                     const std::function<void(std::size_t, std::size_t, std::size_t)>& fn);

}  // namespace attnlab
