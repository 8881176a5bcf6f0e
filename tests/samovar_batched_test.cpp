// Protects: the batched SAMoVAR / FixedVAR / LinTrans path (models/samovar/batched.h) against its
// per-sample reference twin (sample_loss_reference, forward): same losses, forecasts and
// gradients for every variant, with dropout, channel drop, several patches with left padding and
// uneven batch sizes; its own gradient against finite differences in double; float32 against
// float64; and no page faults in a steady-state step (the cost the issue measured: 89 million
// minor faults in one claim's run from per-call temporaries).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "core/gradcheck.h"
#include "core/random_matrix.h"
#include "core/rng.h"
#include "experiments/var/training.h"
#include "models/samovar/batched.h"
#include "models/samovar/samovar.h"
#include "tests/tolerances.h"

namespace attnlab::samovar {
namespace {

struct Case {
  std::string name;
  Config cfg;
};

std::vector<Case> cases() {
  Config base;
  base.channels = 2;
  base.input_len = 7;
  base.patch = 2;  // P = 4 patches, one step of left padding
  base.width = 8;
  base.heads = 2;
  base.mlp_layers = 2;
  base.attn_layers = 2;
  base.dropout = 0.2;
  std::vector<Case> out{{"samovar", base}};
  Config fixed = base;
  fixed.fixed_qv = true;
  fixed.heads = 1;
  out.push_back({"fixedvar", fixed});
  Config wk = base;
  wk.learned_keys = true;
  out.push_back({"samovar_wk", wk});
  Config noshort = base;
  noshort.key_shortcut = false;
  noshort.channels = 3;
  noshort.patch = 1;
  noshort.input_len = 6;
  out.push_back({"no_shortcut_c3", noshort});
  Config lin = base;
  lin.arch = Arch::LinTrans;
  out.push_back({"lintrans", lin});
  // The attention's run-time head size (d = 6) and its fixed-size paths for d = 16 (the
  // synthetic protocol) and d = 8 (ETT); d = 4 is the base case above.
  Config generic = base;
  generic.width = 12;
  out.push_back({"head_dim6", generic});
  Config d16 = base;
  d16.width = 32;
  out.push_back({"head_dim16", d16});
  Config lin8 = lin;
  lin8.width = 16;
  lin8.heads = 2;
  out.push_back({"lintrans_head_dim8", lin8});
  return out;
}

// Initial parameters moved off their special values (unit gains, zero biases), so that every
// gradient block is generic.
Params test_params(const Config& cfg, std::uint64_t seed) {
  Rng rng = make_stream(seed, "test.init");
  Params p = init_params(cfg, rng);
  Params::visit_blocks(p, static_cast<Params*>(nullptr), [&](const char*, int, auto& v, auto*) {
    for (Eigen::Index i = 0; i < v.size(); ++i) v.data()[i] += 0.1 * normal(rng);
  });
  return p;
}

struct Data {
  std::vector<Matrix> windows, targets;
  std::vector<double> keep;
};

Data test_data(const Config& cfg, int n, std::uint64_t seed, bool channel_drop) {
  Rng rng = make_stream(seed, "test.data");
  Data d;
  for (int i = 0; i < n; ++i) {
    d.windows.push_back(gaussian_matrix(cfg.input_len, cfg.channels, rng, 0.7));
    d.targets.push_back(gaussian_matrix(cfg.patch, cfg.channels, rng, 0.7));
  }
  d.keep.assign(static_cast<std::size_t>(cfg.channels), 1.0);
  if (channel_drop) d.keep[1] = 0.0;
  return d;
}

std::vector<std::uint64_t> seeds(int n, std::uint64_t seed) {
  std::vector<std::uint64_t> r;
  for (int i = 0; i < n; ++i) r.push_back(stream_seed(seed, "test.dropout", std::uint64_t(i)));
  return r;
}

BatchView view(const Data& d, const std::vector<std::uint64_t>* dropout) {
  BatchView b;
  for (std::size_t i = 0; i < d.windows.size(); ++i) {
    b.windows.push_back(&d.windows[i]);
    b.targets.push_back(&d.targets[i]);
  }
  b.keep = d.keep;
  if (dropout != nullptr) b.dropout_seeds = *dropout;
  return b;
}

// The reference: sample_loss_reference per sample on the channel-dropped window and target.
double reference_loss(const Params& p, const Config& cfg, const Data& d, std::uint64_t seed,
                      double wfc, double waux, Grads* g) {
  std::vector<Rng> rngs;
  for (std::uint64_t s : seeds(static_cast<int>(d.windows.size()), seed)) rngs.emplace_back(s);
  double loss = 0;
  for (std::size_t i = 0; i < d.windows.size(); ++i) {
    Matrix w = d.windows[i], t = d.targets[i];
    for (Eigen::Index c = 0; c < w.cols(); ++c) {
      w.col(c) *= d.keep[static_cast<std::size_t>(c)];
      t.col(c) *= d.keep[static_cast<std::size_t>(c)];
    }
    loss += sample_loss_reference(p, cfg, w, t, wfc, waux, &rngs[i], g);
  }
  return loss;
}

double max_abs(const Grads& g) {
  double m = 0;
  Params::visit_blocks(g, static_cast<const Grads*>(nullptr),
                       [&](const char*, int, auto& v, auto*) {
                         if (v.size() > 0) m = std::max(m, double(v.cwiseAbs().maxCoeff()));
                       });
  return m;
}

TEST(SamovarBatched, AgreesWithTheReferenceForEveryVariant) {
  for (const Case& k : cases())
    for (bool drop : {false, true})
      for (int n : {1, 3, 9}) {  // 9: a full group of 8 SIMD dropout streams and one more
        const std::string what =
            k.name + (drop ? " channel-drop" : "") + " n=" + std::to_string(n) + " (seed 11)";
        const Params p = test_params(k.cfg, 11);
        const Data d = test_data(k.cfg, n, 11, drop);
        Grads g_ref = zero_grads(p), g_fast = zero_grads(p);
        const double l_ref = reference_loss(p, k.cfg, d, 11, 0.7, 0.3, &g_ref);
        BatchModel<double> model(k.cfg);
        const std::vector<std::uint64_t> rngs = seeds(n, 11);
        const double l_fast = model.loss(p, view(d, &rngs), 0.7, 0.3, &g_fast);
        EXPECT_NEAR(l_fast, l_ref, tol::kBatchedVsReference * std::max(1.0, std::abs(l_ref)))
            << what;
        const double scale = std::max(1.0, max_abs(g_ref));
        Grads::visit_blocks(g_fast, &g_ref, [&](const char* name, int i, auto& a, auto* b) {
          if (a.size() == 0) return;
          EXPECT_LE((a - *b).cwiseAbs().maxCoeff(), tol::kBatchedVsReference * scale)
              << what << " block " << name << i;
        });
        // The forecast (no dropout) against forward().
        std::vector<Matrix> f;
        BatchView fv = view(d, nullptr);
        fv.keep.clear();  // forward() sees the windows as given
        model.forecast(p, fv, f);
        for (int i = 0; i < n; ++i) {
          SampleCache cache;
          const Matrix ref =
              forward(p, k.cfg, d.windows[static_cast<std::size_t>(i)], cache, nullptr);
          EXPECT_LE((f[static_cast<std::size_t>(i)] - ref).cwiseAbs().maxCoeff(),
                    tol::kBatchedVsReference * std::max(1.0, ref.cwiseAbs().maxCoeff()))
              << what << " forecast " << i;
        }
      }
}

TEST(SamovarBatched, ReusedWorkspaceGivesTheSameBitsForAnyBatchOrder) {
  // A workspace sized by a larger batch, then used for a smaller one, must not leak state.
  const Config cfg = cases()[0].cfg;
  const Params p = test_params(cfg, 12);
  const Data big = test_data(cfg, 4, 12, false), small = test_data(cfg, 2, 13, true);
  BatchModel<double> fresh(cfg), reused(cfg);
  const std::vector<std::uint64_t> r1 = seeds(4, 1), r2 = seeds(2, 2), r3 = seeds(2, 2);
  Grads g1 = zero_grads(p), g2 = zero_grads(p);
  reused.loss(p, view(big, &r1), 0.5, 0.5, &g1);
  const double a = reused.loss(p, view(small, &r2), 0.5, 0.5, &g2);
  Grads g3 = zero_grads(p);
  const double b = fresh.loss(p, view(small, &r3), 0.5, 0.5, &g3);
  EXPECT_EQ(a, b);
  Grads::visit_blocks(g2, &g3, [&](const char* name, int i, auto& x, auto* y) {
    EXPECT_TRUE(x == *y) << name << i;
  });
}

TEST(SamovarBatched, GradientMatchesFiniteDifferencesInDouble) {
  for (const Case& k : cases()) {
    Params p = test_params(k.cfg, 21);
    const Data d = test_data(k.cfg, 2, 21, false);
    BatchModel<double> model(k.cfg);
    Grads g = zero_grads(p);
    const std::vector<std::uint64_t> r0 = seeds(2, 21);
    model.loss(p, view(d, &r0), 0.7, 0.3, &g);
    auto loss = [&] {
      const std::vector<std::uint64_t> r = seeds(2, 21);  // the same masks at every evaluation
      return model.loss(p, view(d, &r), 0.7, 0.3, nullptr);
    };
    std::vector<GradBlock> blocks;
    for (auto& b : param_blocks(p, g, k.cfg)) blocks.push_back({b.name, b.value, b.grad, b.size});
    const GradCheckResult r = check_gradient(loss, blocks, {.max_coords_per_block = 12});
    EXPECT_LE(r.max_rel_error(), tol::kGradCheck) << k.name << " (seed 21): " << r.worst();
  }
}

TEST(SamovarBatched, FloatAgreesWithDouble) {
  for (const Case& k : cases()) {
    const Params p = test_params(k.cfg, 31);
    ParamsT<float> pf;
    cast_params<float>(p, pf);
    const Data d = test_data(k.cfg, 3, 31, true);
    BatchModel<double> md(k.cfg);
    BatchModel<float> mf(k.cfg);
    Grads gd = zero_grads(p);
    ParamsT<float> gf = pf;
    gf.set_zero();
    const std::vector<std::uint64_t> r1 = seeds(3, 31), r2 = seeds(3, 31);
    const double ld = md.loss(p, view(d, &r1), 0.7, 0.3, &gd);
    const double lf = mf.loss(pf, view(d, &r2), 0.7, 0.3, &gf);
    EXPECT_NEAR(lf, ld, tol::kFloatVsDouble * std::abs(ld)) << k.name << " (seed 31)";
    const double scale = max_abs(gd);
    Grads::visit_blocks(gd, &gf, [&](const char* name, int i, auto& a, auto* b) {
      if (a.size() == 0) return;
      EXPECT_LE((a - b->template cast<double>()).cwiseAbs().maxCoeff(), tol::kFloatVsDouble * scale)
          << k.name << " block " << name << i;
    });
  }
}

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

TEST(SamovarBatched, SteadyStateStepTouchesNoNewPages) {
  // The var.step_speed shape (L = 32, D = 16, 3 + 3 layers) with a chunk of 8 samples: after
  // the first step has sized every buffer, further steps allocate nothing and fault no pages.
  Config cfg;
  cfg.input_len = 32;
  cfg.width = 16;
  cfg.heads = 2;
  const Params p = test_params(cfg, 41);
  const Data d = test_data(cfg, 8, 41, false);
  BatchModel<double> model(cfg);
  Grads g = zero_grads(p);
  const std::vector<std::uint64_t> r = seeds(8, 41);
  const BatchView v = view(d, &r);
  for (int i = 0; i < 2; ++i) model.loss(p, v, 1.0, 1.0, &g);
  const long before = minor_faults();
  for (int i = 0; i < 5; ++i) model.loss(p, v, 1.0, 1.0, &g);
  // A handful of faults may come from elsewhere in the process (the kernel's page cache, lazy
  // binding); one per-step temporary of this shape would cost hundreds per step.
  EXPECT_LE(minor_faults() - before, 20);
}

// A small model on the stable protocol, 64 training and 64 validation series: the short
// training runs below.
struct ShortRun {
  Config cfg = [] {
    Config c;
    c.input_len = 16;
    c.width = 16;
    c.heads = 2;
    c.mlp_layers = c.attn_layers = 2;
    return c;
  }();
  std::vector<var::Example> train = var::make_split("stable", true, 5, 64, 16);
  std::vector<var::Example> val = var::make_split("stable", false, 5, 64, 16);
};

TEST(SamovarBatched, Float32TrainingTracksFloat64OnAShortRun) {
  // The float32 path of the long runs against float64: 3 epochs of 4 steps on the stable
  // protocol (dropout, channel drop, warm-up), validation MSE after every epoch.
  const ShortRun run;
  const Config& cfg = run.cfg;
  const auto& train = run.train;
  const auto& val = run.val;
  var::Hyper hp;
  hp.epochs = 3;
  hp.batch = 16;
  hp.warmup_epochs = 1;
  const auto t64 = var::train_model(cfg, hp, train, val, 7, [](double) {});
  hp.precision = var::Precision::Float32;
  const auto t32 = var::train_model(cfg, hp, train, val, 7, [](double) {});
  ASSERT_EQ(t64.curve.size(), 3u);
  ASSERT_EQ(t32.curve.size(), 3u);
  for (std::size_t e = 0; e < 3; ++e)
    EXPECT_LE(std::abs(t32.curve[e] - t64.curve[e]), tol::kFloatTrainingRel * t64.curve[e])
        << "epoch " << e << ": float32 " << t32.curve[e] << " vs float64 " << t64.curve[e]
        << " (seed 7)";
}

TEST(SamovarBatched, TrainingResumedFromACheckpointHasTheSameBits) {
  // A run killed after epoch k and resumed from its checkpoint ends with the weights, curve and
  // statistics of the run that was never stopped, in float64 and float32 (dropout, channel drop,
  // warm-up and shuffling all active).
  const ShortRun run;
  const Config& cfg = run.cfg;
  const auto& train = run.train;
  const auto& val = run.val;
  for (const auto precision : {var::Precision::Float64, var::Precision::Float32}) {
    var::Hyper hp;
    hp.epochs = 4;
    hp.batch = 16;
    hp.warmup_epochs = 1;
    hp.precision = precision;
    std::vector<nlohmann::json> saved;
    var::Checkpoints every_epoch;
    every_epoch.every_seconds = 0;
    every_epoch.save = [&](const nlohmann::json& s) { saved.push_back(s); };
    const auto whole = var::train_model(
        cfg, hp, train, val, 7, [](double) {}, &every_epoch);
    ASSERT_EQ(saved.size(), 3u);  // after epochs 1, 2, 3; none after the last
    for (std::size_t k = 0; k < saved.size(); ++k) {
      var::Checkpoints resume;
      resume.load = [&]() -> std::optional<nlohmann::json> { return saved[k]; };
      int calls = 0;
      const auto rest = var::train_model(
          cfg, hp, train, val, 7, [&](double) { ++calls; }, &resume);
      EXPECT_EQ(calls, 4 - static_cast<int>(k) - 1) << "epochs trained after the checkpoint";
      EXPECT_EQ(rest.curve, whole.curve) << "resumed after epoch " << k + 1;
      EXPECT_EQ(rest.mean_grad_norm, whole.mean_grad_norm);
      EXPECT_EQ(rest.max_grad_norm, whole.max_grad_norm);
      EXPECT_EQ(rest.max_weight_norm, whole.max_weight_norm);
      Params::visit_blocks(rest.params, &whole.params, [&](const char* f, int i, auto& a, auto* b) {
        EXPECT_TRUE(a == *b) << f << "#" << i << " differs after resuming at epoch " << k + 1;
      });
    }
    // A state that does not fit (another width) is ignored: the run starts from the beginning.
    Config other = cfg;
    other.width = 8;
    var::Checkpoints wrong;
    wrong.load = [&]() -> std::optional<nlohmann::json> { return saved[0]; };
    const auto fresh = var::train_model(other, hp, train, val, 7, [](double) {});
    const auto ignored = var::train_model(
        other, hp, train, val, 7, [](double) {}, &wrong);
    EXPECT_EQ(ignored.curve, fresh.curve);
  }
}

}  // namespace
}  // namespace attnlab::samovar
