#include "core/memory.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

namespace attnlab {
namespace {

// A cgroup limit file holds a byte count or "max"; unreadable or "max" means no limit.
std::uint64_t cgroup_limit(const char* path) {
  std::ifstream in(path);
  std::uint64_t v = 0;
  if (in >> v && v > 0) return v;
  return UINT64_MAX;
}

constexpr std::uint64_t kMinBudget = 256ULL << 20;  // below this nothing useful runs anyway

}  // namespace

std::uint64_t memory_budget_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  std::uint64_t total = pages > 0 && page > 0
                            ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)
                            : UINT64_MAX;
  total = std::min({total, cgroup_limit("/sys/fs/cgroup/memory.max"),
                    cgroup_limit("/sys/fs/cgroup/memory/memory.limit_in_bytes")});
  if (total == UINT64_MAX) return 4 * kMinBudget;  // unknown machine: assume 2 GB of RAM
  return std::max(total / 2, kMinBudget);
}

double memory_threads() {
  return std::max(1.0, static_cast<double>(std::thread::hardware_concurrency()));
}

std::string format_gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  return buf;
}

}  // namespace attnlab
