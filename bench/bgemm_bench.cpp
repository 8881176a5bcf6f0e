// GCC 12 reports false -W(maybe-)uninitialized warnings inside Eigen 3.4's AVX-512 GEMM packing
// (_mm512_extractf64x4_pd in gemm_pack_rhs) for the Eigen peer; it is Eigen's code, not ours.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"  // same false positive at -O2

#include "bench/bgemm_bench.h"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <thread>
#include <type_traits>

#include "core/bgemm.h"
#include "core/error.h"
#include "core/resources.h"
#include "core/rng.h"
#include "core/thread_pool.h"

#if defined(ATTNLAB_HAVE_XSMM)
#include <libxsmm.h>
#endif
#if defined(ATTNLAB_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace attnlab::bench {
namespace {

using Idx = std::ptrdiff_t;

// Seed of the benchmark's operands (values do not affect timing; fixed for reproducibility).
constexpr std::uint64_t kDataSeed = 20261123;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Operands of one (shape, dtype): batch x (m x k), batch x (k x n), batch x (m x n).
template <class T>
struct Operands {
  GemmShape s;
  int batch;
  std::vector<T> A, B, C;
  Operands(GemmShape shape, int b) : s(shape), batch(b) {
    Rng rng = make_stream(kDataSeed, "bench_bgemm");
    A.resize(std::size_t(Idx(s.m) * s.k * batch));
    B.resize(std::size_t(Idx(s.k) * s.n * batch));
    C.assign(std::size_t(Idx(s.m) * s.n * batch), T(0));
    for (auto& x : A) x = static_cast<T>(normal(rng));
    for (auto& x : B) x = static_cast<T>(normal(rng));
  }
  const T* a(Idx b) const { return A.data() + b * s.m * s.k; }
  const T* bm(Idx b) const { return B.data() + b * s.k * s.n; }
  T* c(Idx b) { return C.data() + b * s.m * s.n; }
};

// Runs fn(b) for every matrix on the pool, with the batch split like bgemm's.
template <class Fn>
void each_matrix(int batch, const Fn& fn) {
  parallel_for(static_cast<std::size_t>(batch), [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) fn(static_cast<Idx>(b));
  });
}

template <class T>
void run_attnlab(Operands<T>& x) {
  const GemmShape& s = x.s;
  bgemm<T>(Trans::No, Trans::No, s.m, s.n, s.k, T(1), x.A.data(), s.m, Idx(s.m) * s.k, x.B.data(),
           s.k, Idx(s.k) * s.n, T(0), x.C.data(), s.m, Idx(s.m) * s.n, x.batch);
}

template <class T>
void run_eigen(Operands<T>& x) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const GemmShape& s = x.s;
  each_matrix(x.batch, [&](Idx b) {
    Eigen::Map<const Mat> a(x.a(b), s.m, s.k), bb(x.bm(b), s.k, s.n);
    Eigen::Map<Mat> c(x.c(b), s.m, s.n);
    c.noalias() = a * bb;
  });
}

#if defined(ATTNLAB_HAVE_XSMM)
// libxsmm JIT kernel with its automatic prefetch (next matrix's A, B, C passed in).
template <class T, class Kernel>
std::function<void(Operands<T>&)> wrap_xsmm(Kernel kernel) {
  if (kernel == nullptr) return {};
  return [kernel](Operands<T>& x) {
    each_matrix(x.batch, [&](Idx b) {
      const Idx nb = std::min<Idx>(b + 1, x.batch - 1);
      kernel(x.a(b), x.bm(b), x.c(b), x.a(nb), x.bm(nb), x.c(nb));
    });
  };
}

template <class T>
std::function<void(Operands<T>&)> make_xsmm(const GemmShape& s) {
  const libxsmm_blasint lda = s.m, ldb = s.k, ldc = s.m;
  const T alpha = 1, beta = 0;
  const int flags = LIBXSMM_GEMM_FLAG_NONE, prefetch = LIBXSMM_PREFETCH_AUTO;
  if constexpr (std::is_same_v<T, float>) {
    return wrap_xsmm<T>(
        libxsmm_smmdispatch(s.m, s.n, s.k, &lda, &ldb, &ldc, &alpha, &beta, &flags, &prefetch));
  } else {
    return wrap_xsmm<T>(
        libxsmm_dmmdispatch(s.m, s.n, s.k, &lda, &ldb, &ldc, &alpha, &beta, &flags, &prefetch));
  }
}
#endif

#if defined(ATTNLAB_HAVE_OPENBLAS)
template <class T>
void run_openblas(Operands<T>& x) {
  const GemmShape& s = x.s;
  each_matrix(x.batch, [&](Idx b) {
    if constexpr (std::is_same_v<T, float>) {
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0f, x.a(b), s.m,
                  x.bm(b), s.k, 0.0f, x.c(b), s.m);
    } else {
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0, x.a(b), s.m,
                  x.bm(b), s.k, 0.0, x.c(b), s.m);
    }
  });
}
#endif

template <class T>
std::vector<std::pair<std::string, std::function<void(Operands<T>&)>>> implementations(
    const GemmShape& s) {
  std::vector<std::pair<std::string, std::function<void(Operands<T>&)>>> impls;
  impls.emplace_back("attnlab", run_attnlab<T>);
  impls.emplace_back("eigen", run_eigen<T>);
#if defined(ATTNLAB_HAVE_XSMM)
  if (auto k = make_xsmm<T>(s)) impls.emplace_back("libxsmm", k);
#endif
#if defined(ATTNLAB_HAVE_OPENBLAS)
  impls.emplace_back("openblas", run_openblas<T>);
#endif
  (void)s;
  return impls;
}

// Times every implementation on one (shape, dtype, threads); repetitions are interleaved across
// implementations so that load changes on the shared machine hit all of them alike.
template <class T>
std::vector<BgemmResult> time_config(const BgemmBenchOptions& opt, const GemmShape& s, int threads,
                                     const std::string& dtype) {
  set_num_threads(threads);
  Operands<T> x(s, opt.batch);
  const double flops = 2.0 * s.m * s.n * s.k * opt.batch;
  auto impls = implementations<T>(s);
  std::vector<int> iters(impls.size(), 1);
  for (std::size_t i = 0; i < impls.size(); ++i) {  // warm up and calibrate
    impls[i].second(x);
    const double t0 = wall_seconds();
    impls[i].second(x);
    const double dt = std::max(wall_seconds() - t0, 1e-7);
    iters[i] = std::max(1, static_cast<int>(opt.min_seconds / dt + 0.5));
  }
  std::vector<std::vector<double>> wall(impls.size()), cpu(impls.size());
  for (int rep = 0; rep < opt.repetitions; ++rep) {
    for (std::size_t i = 0; i < impls.size(); ++i) {
      const double w0 = wall_seconds(), c0 = cpu_seconds();
      for (int it = 0; it < iters[i]; ++it) impls[i].second(x);
      const double w = wall_seconds() - w0, c = cpu_seconds() - c0;
      wall[i].push_back(flops * iters[i] / w * 1e-9);
      cpu[i].push_back(flops * iters[i] / std::max(c, 1e-9) * 1e-9);
    }
  }
  std::vector<BgemmResult> out;
  for (std::size_t i = 0; i < impls.size(); ++i) {
    BgemmResult r;
    r.shape = s.name();
    r.dtype = dtype;
    r.impl = impls[i].first;
    r.batch = opt.batch;
    r.threads = threads;
    r.gflops = median(wall[i]);
    r.gflops_cpu = median(cpu[i]);
    r.samples = wall[i];
    out.push_back(r);
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// torch.bmm through bench/compare_torch.py; returns no rows (and says why) when unavailable.
std::vector<BgemmResult> run_torch(const BgemmBenchOptions& opt, std::ostream& log) {
  std::vector<std::string> shapes, threads;
  for (const auto& s : opt.shapes) shapes.push_back(s.name());
  for (int t : opt.threads) threads.push_back(std::to_string(t));
  const std::string script = (resource_dir() / "bench" / "compare_torch.py").string();
  const std::string cmd = "'" + opt.python + "' '" + script + "' --shapes " + join(shapes, ",") +
                          " --batch " + std::to_string(opt.batch) + " --threads " +
                          join(threads, ",") + " --dtypes " + join(opt.dtypes, ",") + " --reps " +
                          std::to_string(opt.repetitions) + " --min-seconds " +
                          std::to_string(opt.min_seconds) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::vector<BgemmResult> out;
  if (!pipe) {
    log << "torch: could not start " << opt.python << "\n";
    return out;
  }
  std::string text;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe.get())) text += buf;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("gflops")) {
      if (!line.empty()) log << "torch: " << line << "\n";
      continue;
    }
    BgemmResult r;
    r.shape = j.at("shape").get<std::string>();
    r.dtype = j.at("dtype").get<std::string>();
    r.impl = "torch";
    r.batch = j.at("batch").get<int>();
    r.threads = j.at("threads").get<int>();
    r.gflops = j.at("gflops").get<double>();
    r.gflops_cpu = j.value("gflops_cpu", 0.0);
    r.samples = j.at("samples").get<std::vector<double>>();
    out.push_back(r);
  }
  return out;
}

std::string read_first_line_with(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "";
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

std::string GemmShape::name() const {
  return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
}

GemmShape parse_shape(const std::string& text) {
  GemmShape s{0, 0, 0};
  char x1 = 0, x2 = 0;
  std::istringstream in(text);
  std::string rest;
  if (!(in >> s.m >> x1 >> s.n >> x2 >> s.k) || x1 != 'x' || x2 != 'x' || (in >> rest) || s.m < 1 ||
      s.n < 1 || s.k < 1 || s.m > 4096 || s.n > 4096 || s.k > 4096) {
    throw InputError("shape '" + text + "' is not allowed: write MxNxK with integers 1..4096");
  }
  return s;
}

std::vector<std::string> linked_peers() {
  std::vector<std::string> peers = {"eigen"};
#if defined(ATTNLAB_HAVE_XSMM)
  peers.push_back("libxsmm");
#endif
#if defined(ATTNLAB_HAVE_OPENBLAS)
  peers.push_back("openblas");
#endif
  return peers;
}

nlohmann::json machine_info() {
  nlohmann::json m;
  m["cpu"] = read_first_line_with("/proc/cpuinfo", "model name");
  m["logical_cpus"] = std::thread::hardware_concurrency();
  m["compiler"] = __VERSION__;
  m["build_type"] = ATTNLAB_BUILD_TYPE;
  m["bgemm_kernel"] = bgemm_kernel_name();
  m["eigen"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
               "." + std::to_string(EIGEN_MINOR_VERSION);
#if defined(ATTNLAB_HAVE_XSMM)
  m["libxsmm"] = LIBXSMM_VERSION;
  m["libxsmm_target"] = libxsmm_get_target_arch();
#endif
#if defined(ATTNLAB_HAVE_OPENBLAS)
  m["openblas"] = std::string(openblas_get_config()) + " core=" + openblas_get_corename();
#endif
  m["loadavg"] = loadavg();
  return m;
}

std::vector<BgemmResult> run_bgemm_bench(const BgemmBenchOptions& opt, std::ostream& log) {
#if defined(ATTNLAB_HAVE_XSMM)
  libxsmm_init();
#endif
#if defined(ATTNLAB_HAVE_OPENBLAS)
  openblas_set_num_threads(1);  // one OpenBLAS thread per call; the batch is split by our pool
#endif
  const int saved_threads = num_threads();
  std::vector<BgemmResult> results;
  for (const auto& s : opt.shapes) {
    for (const auto& dtype : opt.dtypes) {
      for (int t : opt.threads) {
        log << "bgemm " << s.name() << " " << dtype << " threads=" << t << "\n" << std::flush;
        auto rows = dtype == "float" ? time_config<float>(opt, s, t, dtype)
                                     : time_config<double>(opt, s, t, dtype);
        results.insert(results.end(), rows.begin(), rows.end());
      }
    }
  }
  set_num_threads(saved_threads);
  if (opt.torch) {
    log << "torch.bmm via bench/compare_torch.py\n" << std::flush;
    auto rows = run_torch(opt, log);
    results.insert(results.end(), rows.begin(), rows.end());
  }
  return results;
}

nlohmann::json bench_json(const BgemmBenchOptions& opt, const std::vector<BgemmResult>& results,
                          const nlohmann::json& machine) {
  nlohmann::json j;
  j["machine"] = machine;
  j["options"] = {{"batch", opt.batch},
                  {"repetitions", opt.repetitions},
                  {"min_seconds", opt.min_seconds},
                  {"statistic",
                   "gflops: median over repetitions of wall-clock GFLOP/s; gflops_cpu: median of "
                   "flops / process CPU seconds (all threads), robust to time slicing on a "
                   "shared machine"}};
  j["results"] = nlohmann::json::array();
  std::map<std::string, double> g, gc;  // "shape|dtype|threads|impl" -> gflops (wall, cpu)
  for (const auto& r : results) {
    j["results"].push_back({{"op", "bgemm"},
                            {"shape", r.shape},
                            {"batch", r.batch},
                            {"dtype", r.dtype},
                            {"threads", r.threads},
                            {"impl", r.impl},
                            {"gflops", r.gflops},
                            {"gflops_cpu", r.gflops_cpu},
                            {"samples", r.samples}});
    const std::string key =
        r.shape + "|" + r.dtype + "|" + std::to_string(r.threads) + "|" + r.impl;
    g[key] = r.gflops;
    gc[key] = r.gflops_cpu;
  }
  j["ratios"] = nlohmann::json::array();
  for (const auto& r : results) {
    if (r.impl != "attnlab") continue;
    const std::string key = r.shape + "|" + r.dtype + "|";
    for (const char* peer : {"eigen", "libxsmm", "openblas", "torch"}) {
      const auto it = g.find(key + std::to_string(r.threads) + "|" + peer);
      if (it == g.end() || it->second <= 0) continue;
      j["ratios"].push_back({{"shape", r.shape},
                             {"dtype", r.dtype},
                             {"threads", r.threads},
                             {"numerator", "attnlab"},
                             {"denominator", peer},
                             {"ratio", r.gflops / it->second},
                             {"ratio_cpu", r.gflops_cpu / std::max(gc[it->first], 1e-12)}});
    }
    const auto one = g.find(key + "1|attnlab");
    if (r.threads > 1 && one != g.end() && one->second > 0) {
      j["ratios"].push_back({{"shape", r.shape},
                             {"dtype", r.dtype},
                             {"threads", r.threads},
                             {"numerator", "attnlab@" + std::to_string(r.threads) + "t"},
                             {"denominator", "attnlab@1t"},
                             {"ratio", r.gflops / one->second}});  // wall clock only
    }
  }
  return j;
}

std::string bench_table(const std::vector<BgemmResult>& results) {
  const std::vector<std::string> impls = {"attnlab", "eigen", "libxsmm", "openblas", "torch"};
  std::map<std::string, std::map<std::string, const BgemmResult*>> rows;  // config -> impl
  std::vector<std::string> order;
  for (const auto& r : results) {
    const std::string cfg = r.shape + "|" + r.dtype + "|" + std::to_string(r.threads);
    if (!rows.count(cfg)) order.push_back(cfg);
    rows[cfg][r.impl] = &r;
  }
  std::ostringstream out;
  out << "bgemm GFLOP/s (median wall clock; [cpu] = per busy core), batch "
      << (results.empty() ? 0 : results.front().batch) << "\n";
  out << std::left << std::setw(10) << "shape" << std::setw(7) << "dtype" << std::setw(3) << "t";
  for (const auto& i : impls) out << std::right << std::setw(16) << i;
  out << std::setw(9) << "/eigen" << std::setw(9) << "/xsmm"
      << "\n";
  for (const auto& cfg : order) {
    const auto& by = rows[cfg];
    const BgemmResult* any = by.begin()->second;
    out << std::left << std::setw(10) << any->shape << std::setw(7) << any->dtype << std::setw(3)
        << any->threads << std::right << std::fixed;
    for (const auto& i : impls) {
      const auto it = by.find(i);
      std::ostringstream cell;
      if (it != by.end()) {
        cell << std::fixed << std::setprecision(1) << it->second->gflops << " ["
             << it->second->gflops_cpu << "]";
      } else {
        cell << "-";
      }
      out << std::setw(16) << cell.str();
    }
    for (const char* peer : {"eigen", "libxsmm"}) {
      const auto a = by.find("attnlab"), p = by.find(peer);
      std::ostringstream cell;
      if (a != by.end() && p != by.end() && p->second->gflops > 0) {
        cell << std::fixed << std::setprecision(2) << a->second->gflops / p->second->gflops;
      } else {
        cell << "-";
      }
      out << std::setw(9) << cell.str();
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace attnlab::bench
