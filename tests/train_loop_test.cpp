// Protects core/train_loop: resume from a checkpoint continues bit for bit, the NaN guard names
// step and block, progress is reported as documented, and mismatched checkpoints are refused.
#include "core/train_loop.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "core/rng.h"

namespace attnlab {
namespace {
namespace fs = std::filesystem;

constexpr std::uint64_t kSeed = 20261123;
constexpr std::size_t kDim = 6;     // features
constexpr std::size_t kBatch = 16;  // examples per step

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("attnlab_train_loop_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Linear regression y = <w*, x> + 0.5 with w*_i = i - 2, a fresh batch per step from the stream
// ("batch", step). Loss: mean squared error / 2. Gradients accumulate (+=).
template <class T>
struct Regression {
  std::vector<T> w = std::vector<T>(kDim, T(0)), b = std::vector<T>(1, T(0));
  std::vector<T> gw = std::vector<T>(kDim, T(0)), gb = std::vector<T>(1, T(0));
  std::vector<ParamBlock<T>> blocks() {
    return {{"w", w.data(), gw.data(), kDim}, {"b", b.data(), gb.data(), 1}};
  }
  double step(std::int64_t s) {
    Rng rng = make_stream(kSeed, "batch", static_cast<std::uint64_t>(s));
    double loss = 0;
    for (std::size_t n = 0; n < kBatch; ++n) {
      std::vector<double> x(kDim);
      double y = 0.5, pred = static_cast<double>(b[0]);
      for (std::size_t i = 0; i < kDim; ++i) {
        x[i] = normal(rng);
        y += (static_cast<double>(i) - 2.0) * x[i];
        pred += static_cast<double>(w[i]) * x[i];
      }
      const double r = (pred - y) / static_cast<double>(kBatch);
      loss += 0.5 * (pred - y) * r;
      for (std::size_t i = 0; i < kDim; ++i) gw[i] += static_cast<T>(r * x[i]);
      gb[0] += static_cast<T>(r);
    }
    return loss;
  }
};

TrainLoopOptions options_for(const fs::path& checkpoint) {
  TrainLoopOptions o;
  o.steps = 60;
  o.adam = AdamConfig{0.9, 0.99, 1e-8, 0.01};
  o.schedule.kind = Schedule::Kind::WarmupLinear;
  o.schedule.base_lr = 0.1;
  o.schedule.warmup_steps = 5;
  o.schedule.final_lr = 0.001;
  o.schedule.total_steps = o.steps;
  o.clip_norm = 2.0;
  o.checkpoint = checkpoint;
  o.checkpoint_every = 10;
  return o;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

struct Crash : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
void check_resume_is_bitwise(const std::string& tag) {
  const fs::path dir = fresh_dir("resume_" + tag);
  // Uninterrupted run.
  Regression<T> a;
  const TrainResult ra = train_loop<T>(a.blocks(), options_for(dir / "a.json"),
                                       [&](std::int64_t s) { return a.step(s); });
  EXPECT_EQ(ra.resumed_from, 0);
  ASSERT_EQ(ra.losses.size(), 60u);
  EXPECT_LT(ra.losses.back(), 1e-2 * ra.losses.front()) << "seed " << kSeed;

  // Same run, crashing at step 37 (after the checkpoint at 30), then resumed in a new model.
  {
    Regression<T> crashed;
    EXPECT_THROW(train_loop<T>(crashed.blocks(), options_for(dir / "b.json"),
                               [&](std::int64_t s) {
                                 if (s == 37) throw Crash("simulated crash");
                                 return crashed.step(s);
                               }),
                 Crash);
  }
  Regression<T> b;
  b.w.assign(kDim, T(7));  // overwritten by the checkpoint
  const TrainResult rb = train_loop<T>(b.blocks(), options_for(dir / "b.json"),
                                       [&](std::int64_t s) { return b.step(s); });
  EXPECT_EQ(rb.resumed_from, 30);
  EXPECT_TRUE(same_bits(a.w, b.w)) << "seed " << kSeed;
  EXPECT_TRUE(same_bits(a.b, b.b)) << "seed " << kSeed;
  EXPECT_TRUE(same_bits(ra.losses, rb.losses));
  EXPECT_TRUE(same_bits(ra.grad_norms, rb.grad_norms));
  EXPECT_EQ(ra.grad_norms.size(), 60u);
  nlohmann::json ja = read_json_file(dir / "a.json"), jb = read_json_file(dir / "b.json");
  EXPECT_EQ(ja, jb);  // identical final checkpoints (values, moments, history)
  // Nothing half written is left beside the checkpoints.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
  EXPECT_EQ(files, 2u);

  // A finished checkpoint resumes to a no-op.
  Regression<T> c;
  const TrainResult rc =
      train_loop<T>(c.blocks(), options_for(dir / "a.json"),
                    [&](std::int64_t) -> double { throw Crash("no step should run"); });
  EXPECT_EQ(rc.resumed_from, 60);
  EXPECT_TRUE(same_bits(a.w, c.w));
}

TEST(TrainLoop, ResumeAfterCrashIsBitwiseEqualToUninterruptedRunDouble) {
  check_resume_is_bitwise<double>("double");
}
TEST(TrainLoop, ResumeAfterCrashIsBitwiseEqualToUninterruptedRunFloat) {
  check_resume_is_bitwise<float>("float");
}

TEST(TrainLoop, StoppingEarlyThenExtendingStepsIsBitwiseEqual) {
  // Running to 20 steps and then to 60 with the same schedule equals one 60-step run.
  const fs::path dir = fresh_dir("extend");
  Regression<double> a, b;
  TrainLoopOptions o = options_for(dir / "a.json");
  train_loop<double>(a.blocks(), o, [&](std::int64_t s) { return a.step(s); });
  TrainLoopOptions short_run = options_for(dir / "b.json");
  short_run.steps = 20;
  short_run.checkpoint_every = 0;  // only the final checkpoint
  train_loop<double>(b.blocks(), short_run, [&](std::int64_t s) { return b.step(s); });
  const TrainResult rb = train_loop<double>(b.blocks(), options_for(dir / "b.json"),
                                            [&](std::int64_t s) { return b.step(s); });
  EXPECT_EQ(rb.resumed_from, 20);
  EXPECT_TRUE(same_bits(a.w, b.w));
}

TEST(TrainLoop, SgdOptionMatchesHandLoop) {
  Regression<double> a, b;
  TrainLoopOptions o;
  o.optimizer = TrainLoopOptions::Optimizer::Sgd;
  o.steps = 25;
  o.schedule.base_lr = 0.05;
  train_loop<double>(a.blocks(), o, [&](std::int64_t s) { return a.step(s); });
  for (std::int64_t s = 0; s < 25; ++s) {
    std::fill(b.gw.begin(), b.gw.end(), 0.0);
    b.gb[0] = 0;
    b.step(s);
    sgd_step(b.blocks(), 0.05);
  }
  EXPECT_TRUE(same_bits(a.w, b.w));
  EXPECT_TRUE(same_bits(a.b, b.b));
}

TEST(TrainLoop, NanGradientStopsWithStepAndBlock) {
  Regression<double> m;
  TrainLoopOptions o;
  o.steps = 20;
  try {
    train_loop<double>(m.blocks(), o, [&](std::int64_t s) {
      const double loss = m.step(s);
      if (s == 7) m.gb[0] = std::numeric_limits<double>::quiet_NaN();
      return loss;
    });
    FAIL() << "NaN gradient not detected";
  } catch (const NumericError& e) {
    EXPECT_EQ(std::string(e.what()),
              "step 7: parameter block 'b' has a NaN/Inf gradient at index 0");
  }
}

TEST(TrainLoop, NanLossStopsWithStep) {
  Regression<float> m;
  TrainLoopOptions o;
  o.steps = 20;
  try {
    train_loop<float>(m.blocks(), o, [&](std::int64_t s) {
      m.step(s);
      return s == 4 ? std::numeric_limits<double>::infinity() : 1.0;
    });
    FAIL() << "Inf loss not detected";
  } catch (const NumericError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("step 4: loss is", 0), 0u) << e.what();
  }
}

TEST(TrainLoop, ProgressEveryKStepsAndAtTheEnd) {
  Regression<double> m;
  TrainLoopOptions o;
  o.steps = 25;
  o.log_every = 10;
  std::vector<double> fractions;
  std::vector<std::string> labels;
  const TrainResult r = train_loop<double>(
      m.blocks(), o, [&](std::int64_t s) { return m.step(s); },
      [&](double f, std::string_view label) {
        fractions.push_back(f);
        labels.emplace_back(label);
      });
  ASSERT_EQ(fractions, (std::vector<double>{0.4, 0.8, 1.0}));
  EXPECT_EQ(labels[0].rfind("step 10/25 loss ", 0), 0u) << labels[0];
  EXPECT_EQ(labels[2].rfind("step 25/25 loss ", 0), 0u) << labels[2];
  EXPECT_EQ(r.losses.size(), 25u);
  EXPECT_TRUE(r.grad_norms.empty());  // no clipping
}

TEST(TrainLoop, RefusesCheckpointOfAnotherModel) {
  const fs::path dir = fresh_dir("mismatch");
  Regression<double> m;
  TrainLoopOptions o = options_for(dir / "c.json");
  o.steps = 10;
  o.schedule.total_steps = 10;
  train_loop<double>(m.blocks(), o, [&](std::int64_t s) { return m.step(s); });
  o.steps = 20;
  o.schedule.total_steps = 20;
  std::vector<double> v(3), g(3);
  std::vector<ParamBlock<double>> other{{"w", v.data(), g.data(), 3}};
  EXPECT_THROW(train_loop<double>(other, o, [](std::int64_t) { return 0.0; }), InputError);
  Regression<float> f;
  EXPECT_THROW(train_loop<float>(f.blocks(), o, [&](std::int64_t s) { return f.step(s); }),
               InputError);
  o.adam.beta2 = 0.999;  // another optimizer config cannot continue the same run
  EXPECT_THROW(train_loop<double>(m.blocks(), o, [&](std::int64_t s) { return m.step(s); }),
               InputError);
}

}  // namespace
}  // namespace attnlab
