#pragma once
// How much memory one attnlab process may plan to use, so commands can refuse a request that
// would die in bad_alloc (or the OOM killer) with a one-line error naming the options instead.
#include <cstdint>
#include <string>

namespace attnlab {

// Half of the smaller of physical RAM (sysconf) and the cgroup memory limit, if any: room for
// the OS, the page cache and a second job. At least 256 MiB.
std::uint64_t memory_budget_bytes();
// Threads a memory estimate assumes: the machine's hardware threads (at least 1), an upper bound
// of any --threads that runs fast; independent of $ATTNLAB_THREADS, so loading a claim never
// depends on (or fails on) a thread setting.
double memory_threads();
// "11.7 GB": bytes in decimal gigabytes with three significant digits, for messages.
std::string format_gb(double bytes);

}  // namespace attnlab
