#include "experiments/var/training.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "analysis/stats.h"
#include "analysis/var_fit.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "synth/var.h"

namespace attnlab::var {

namespace sv = attnlab::samovar;
using Eigen::MatrixXd;

namespace {

double global_norm(const std::vector<ParamBlock<double>>& blocks, bool grads) {
  double s = 0;
  for (const auto& b : blocks)
    for (std::size_t i = 0; i < b.size; ++i) {
      const double v = grads ? b.grad[i] : b.value[i];
      s += v * v;
    }
  return std::sqrt(s);
}

}  // namespace

Splits make_splits(const ParamValues& prm, std::uint64_t seed) {
  const std::string protocol = prm.s("protocol");
  const int L = prm.i32("input_len");
  return {make_split(protocol, true, seed, prm.i32("train_size"), L),
          make_split(protocol, false, seed, prm.i32("val_size"), L)};
}

std::vector<Example> make_split(const std::string& protocol, bool train, std::uint64_t seed,
                                int count, int L) {
  std::vector<Example> out(static_cast<std::size_t>(count));
  if (protocol == "authors") {
    const auto samples = samovar_dataset(train ? SamovarSplit::Train : SamovarSplit::Validation,
                                         seed, 0, static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const MatrixXd& s = samples[i].series;  // (65, 2)
      out[i] = {s.middleRows(kSamovarLength - 1 - L, L), s.bottomRows(1), samples[i].process.A};
    }
    return out;
  }
  const std::uint64_t split_seed = stream_seed(seed, train ? "stable.train" : "stable.val");
  parallel_for(out.size(), [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      Rng order_rng = make_stream(split_seed, "order", i);
      VarSpec spec;
      spec.order =
          static_cast<int>(train ? uniform_int(order_rng, 1, 3) : uniform_int(order_rng, 3, 5));
      spec.coef_scale = train ? 0.5 : 0.25;
      // The authors' innovation std (spec §3.1), so both protocols share the floor 0.0025.
      // (VarSpec's default is unit variance; an earlier version left it at 1.)
      spec.noise_std = kSamovarNoiseStd;
      const VarSample v = var_sample(spec, L + 1, split_seed, i);
      out[i] = {v.series.topRows(L), v.series.bottomRows(1), v.process.A};
    }
  });
  return out;
}

void configure_model(const std::string& model, sv::Config& cfg, Hyper& hp) {
  if (model == "fixedvar") {  // spec §3.2: 1 head, forecast loss only
    cfg.fixed_qv = true;
    cfg.heads = 1;
    hp.aux_weight = 0;
  } else if (model == "lintrans" || model == "lintrans_w8") {
    cfg.arch = sv::Arch::LinTrans;
    if (model == "lintrans_w8") cfg.input_len = kAuthorsLinTransWindow;
  } else if (model == "samovar_wk") {
    cfg.learned_keys = true;
  } else if (model != "samovar") {
    throw InputError("unknown model '" + model + "'");
  }
}

std::vector<ParamSpec> model_schema() {
  return {p_string("protocol", {"authors", "stable"})
              .describe("synthetic VAR data: the authors' generator or the stable one"),
          p_int("train_size", 1, 1000000).describe("training series (one window each)"),
          p_int("val_size", 1, 100000).describe("validation series (one window each)"),
          p_int("input_len", 8, 64).describe("L, input window length in steps"),
          p_int("width", 2, 512).describe("D, model width"),
          p_int("heads", 1, 64).describe("h, attention heads (divides width)"),
          p_int("layers", 1, 8).describe("MLP blocks and attention layers, each"),
          p_real("dropout", 0, 0.9).describe("dropout probability during training"),
          p_int("epochs", 1, 1000).describe("training epochs"),
          p_int("batch", 1, 4096).describe("samples per training step"),
          p_int("warmup_epochs", 0, 1000).describe("epochs of linear lr warm-up from 0"),
          p_real("lr", 0, 1).describe("peak learning rate of AdamW (key ablation: lrs instead)"),
          p_real("aux_weight", 0, 10).describe("weight of the auxiliary next-patch loss"),
          p_bool("channel_drop").describe("random channel drop during training"),
          precision_param()};
}

ParamSpec precision_param() {
  return p_string("precision", {"float64", "float32"})
      .optional("float64")
      .describe(
          "arithmetic of the training step: float32 computes activations, gradients and GEMMs in "
          "single precision with float64 master weights and AdamW state; evaluation is float64");
}

std::vector<Constraint> model_constraints() {
  // Peak memory: each thread holds one batched workspace of kGradChunk samples
  // (models/samovar/batched.cpp Work: per layer about 7 (D, C T) token matrices of the attention
  // and 3 plus 3 four-wide ones of the MLP, with backward scratch about 24 per layer plus 32),
  // T = 2 ceil(input_len / patch) tokens per channel; plus the data sets, windows and targets.
  const auto bytes = [](const ParamValues& prm) {
    const double C = prm.has("channels") ? prm.number("channels") : kSamovarDim;
    const double patch = prm.has("patch") ? prm.number("patch") : 1;
    const double T = 2.0 * std::ceil(prm.number("input_len") / patch), D = prm.number("width");
    const double layers = prm.number("layers");
    const double caches =
        memory_threads() * static_cast<double>(kGradChunk) * C * T * D * 8 * (24 * layers + 32);
    const double windows = prm.has("train_size")
                               ? (prm.number("train_size") + prm.number("val_size")) *
                                     (prm.number("input_len") + 1) * C * 8 * 2
                               : prm.number("batch") * (prm.number("input_len") + patch) * C * 8;
    return caches + windows;
  };
  return {divides("heads", "width"), fits_memory({"input_len", "width", "layers", "train_size",
                                                  "val_size", "batch", "channels", "patch"},
                                                 bytes)};
}

sv::Config base_config(const ParamValues& prm) {
  sv::Config c;
  c.channels = kSamovarDim;
  c.input_len = prm.i32("input_len");
  c.patch = 1;
  c.width = prm.i32("width");
  c.heads = prm.i32("heads");
  c.mlp_layers = prm.i32("layers");
  c.attn_layers = prm.i32("layers");
  c.dropout = prm.d("dropout");
  if (c.width % c.heads != 0) throw InputError("width must be a multiple of heads");
  return c;
}

Hyper base_hyper(const RunContext& ctx) {
  const ParamValues& prm = ctx.params;
  // A half-budget run halves the epochs and the warm-up with them (same schedule shape).
  const int epochs = ctx.scaled(prm.i32("epochs"));
  const int warmup = std::min({prm.i32("warmup_epochs"), ctx.scaled(prm.i32("warmup_epochs")),
                               epochs - 1});  // rounding must keep warm-up < training
  return {epochs,
          prm.i32("batch"),
          std::max(0, warmup),
          prm.d("lr"),
          prm.d("aux_weight"),
          prm.b("channel_drop"),
          parse_precision(prm.s("precision"))};
}

Precision parse_precision(const std::string& name) {
  if (name == "float64") return Precision::Float64;
  if (name == "float32") return Precision::Float32;
  throw InputError("precision '" + name + "' is not allowed (allowed: float64, float32)");
}

double evaluate(const sv::Params& p, const sv::Config& cfg, const std::vector<Example>& data) {
  std::vector<double> se(data.size());
  sv::BatchModelPool<double> pool(cfg);
  parallel_chunks(data.size(), kGradChunk, [&](std::size_t, std::size_t lo, std::size_t hi) {
    sv::BatchView v;
    for (std::size_t i = lo; i < hi; ++i) v.windows.push_back(&data[i].window);
    auto model = pool.acquire();
    std::vector<MatrixXd> f;
    model->forecast(p, v, f);
    pool.release(std::move(model));
    for (std::size_t i = lo; i < hi; ++i)
      se[i] = (f[i - lo] - data[i].target).squaredNorm();  // both (1, C)
  });
  double s = 0;
  for (double v : se) s += v;
  return s / static_cast<double>(data.size() * static_cast<std::size_t>(cfg.channels));
}

Stepper make_stepper(const sv::Config& cfg, const Hyper& hp, std::uint64_t seed) {
  Stepper st;
  st.cfg = cfg;
  st.hp = hp;
  st.seed = seed;
  Rng init = make_stream(seed, "init");
  st.params = sv::init_params(cfg, init);
  st.grads = sv::zero_grads(st.params);
  const std::size_t chunks = num_chunks(static_cast<std::size_t>(hp.batch), kGradChunk);
  if (hp.precision == Precision::Float32) {
    sv::cast_params<float>(st.params, st.params_f);
    st.partial_f.assign(chunks, st.params_f);
    st.pool_f = std::make_unique<sv::BatchModelPool<float>>(cfg);
  } else {
    st.partial.assign(chunks, st.grads);
    st.pool = std::make_unique<sv::BatchModelPool<double>>(cfg);
  }
  return st;
}

double train_step(Stepper& st, Adam<double>& opt, const std::vector<Example>& train,
                  const std::vector<std::size_t>& order, std::size_t first, double lr,
                  std::size_t count) {
  const sv::Config& cfg = st.cfg;
  const std::size_t full = static_cast<std::size_t>(st.hp.batch);
  const std::size_t B = count == 0 ? full : count;
  if (B > full) throw std::logic_error("train_step: more samples than the batch size");
  const double C = cfg.channels, s = cfg.patch, P = cfg.patches();
  const double w_fc = 1.0 / (static_cast<double>(B) * C * s);
  const double w_aux = P > 1 ? st.hp.aux_weight / (static_cast<double>(B) * C * (P - 1) * s) : 0.0;
  Rng drop = make_stream(st.seed, "channel_drop", static_cast<std::uint64_t>(st.step));
  std::vector<double> keep(static_cast<std::size_t>(cfg.channels), 1.0);
  if (st.hp.channel_drop) {  // each channel zeroed with probability 1 - r, r ~ U(0,1) per batch
    const double r = uniform(drop, 0.0, 1.0);
    for (auto& k : keep) k = bernoulli(drop, r) ? 1.0 : 0.0;
  }
  const bool f32 = st.hp.precision == Precision::Float32;
  if (f32) sv::cast_params<float>(st.params, st.params_f);
  const std::size_t chunks = num_chunks(B, kGradChunk);  // of the partials: those used now
  std::vector<double> losses(chunks, 0.0);
  parallel_chunks(B, kGradChunk, [&](std::size_t c, std::size_t lo, std::size_t hi) {
    sv::BatchView v;
    for (std::size_t i = lo; i < hi; ++i) {
      const Example& ex = train[order[first + i]];
      v.windows.push_back(&ex.window);
      v.targets.push_back(&ex.target);
      v.dropout_seeds.push_back(  // make_stream(seed, "dropout", step batch + i)'s seed
          stream_seed(st.seed, "dropout", static_cast<std::uint64_t>(st.step) * full + i));
    }
    v.keep = keep;
    if (f32) {
      auto model = st.pool_f->acquire();
      st.partial_f[c].set_zero();
      losses[c] = model->loss(st.params_f, v, w_fc, w_aux, &st.partial_f[c]);
      st.pool_f->release(std::move(model));
    } else {
      auto model = st.pool->acquire();
      st.partial[c].set_zero();
      losses[c] = model->loss(st.params, v, w_fc, w_aux, &st.partial[c]);
      st.pool->release(std::move(model));
    }
  });
  st.grads.set_zero();
  double loss = 0;
  for (std::size_t c = 0; c < chunks; ++c) {  // chunk order: thread-independent
    if (f32)
      sv::Params::visit_blocks(st.grads, &st.partial_f[c], [](const char*, int, auto& g, auto* pc) {
        g += pc->template cast<double>();
      });
    else
      sv::Params::visit_blocks(st.grads, &st.partial[c],
                               [](const char*, int, auto& g, auto* pc) { g += *pc; });
    loss += losses[c];
  }
  auto gb = sv::param_blocks(st.params, st.grads, cfg);
  if (std::isfinite(loss) && std::isfinite(global_norm(gb, true))) {
    if (st.hp.clip_norm > 0) clip_global_norm(gb, st.hp.clip_norm);
    opt.step(gb, lr);
  }
  ++st.step;
  return loss;
}

namespace {

// A training run's state at the end of `epochs_done` epochs; weights and moments bit for bit.
nlohmann::json training_state(Stepper& st, const Adam<double>& opt, const Trained& tr,
                              double sum_gn, int epochs_done) {
  nlohmann::json weights = nlohmann::json::object();
  sv::Params::visit_blocks(st.params, static_cast<sv::Params*>(nullptr),
                           [&](const char* f, int i, auto& v, auto*) {
                             weights[std::string(f) + "#" + std::to_string(i)] =
                                 encode_exact(v.data(), static_cast<std::size_t>(v.size()));
                           });
  return {{"epochs_done", epochs_done},
          {"step", st.step},
          {"weights", weights},
          {"adam", opt.state()},
          {"curve", tr.curve},
          {"max_grad_norm", tr.max_grad_norm},
          {"max_weight_norm", tr.max_weight_norm},
          {"sum_grad_norm", sum_gn}};
}

// The inverse: the number of epochs done, or 0 (nothing restored) when the state does not fit
// (another shape, a malformed file, more epochs than planned).
int restore_training_state(const nlohmann::json& j, int epochs, bool with_curve, Stepper& st,
                           Adam<double>& opt, Trained& tr, double& sum_gn) try {
  const int done = j.at("epochs_done").get<int>();
  const auto curve = j.at("curve").get<std::vector<double>>();
  if (done < 1 || done >= epochs || curve.size() != static_cast<std::size_t>(with_curve ? done : 0))
    return 0;
  sv::Params params = st.params;
  bool ok = true;
  const auto& weights = j.at("weights");
  sv::Params::visit_blocks(
      params, static_cast<sv::Params*>(nullptr), [&](const char* f, int i, auto& v, auto*) {
        const auto it = weights.find(std::string(f) + "#" + std::to_string(i));
        if (!ok || it == weights.end() || !it->is_string()) {
          ok = false;
          return;
        }
        decode_exact(it->template get<std::string>(), v.data(), static_cast<std::size_t>(v.size()));
      });
  if (!ok) return 0;
  Adam<double> adam(opt.config());
  adam.load_state(j.at("adam"));
  st.params = std::move(params);
  st.step = j.at("step").get<std::int64_t>();
  opt = std::move(adam);
  tr.curve = curve;
  tr.max_grad_norm = j.at("max_grad_norm").get<double>();
  tr.max_weight_norm = j.at("max_weight_norm").get<double>();
  sum_gn = j.at("sum_grad_norm").get<double>();
  return done;
} catch (const nlohmann::json::exception&) {
  return 0;
} catch (const InputError&) {  // decode_exact / load_state: not this model's numbers
  return 0;
}

}  // namespace

Trained train_model(const sv::Config& cfg, const Hyper& hp, const std::vector<Example>& train,
                    const std::vector<Example>& val, std::uint64_t seed,
                    const std::function<void(double)>& progress, const Checkpoints* checkpoints) {
  Stepper st = make_stepper(cfg, hp, seed);
  const std::size_t B = static_cast<std::size_t>(hp.batch), N = train.size();
  const std::size_t bpe = N / B;  // drop_last
  if (bpe == 0) throw InputError("samovar training: batch larger than the training set");
  Schedule sched;  // per-step linear warm-up from 0, then linear decay to 0 (spec §3.2)
  sched.kind = Schedule::Kind::WarmupLinear;
  sched.base_lr = hp.lr;
  sched.warmup_steps = static_cast<std::int64_t>(hp.warmup_epochs) * static_cast<std::int64_t>(bpe);
  sched.total_steps = static_cast<std::int64_t>(hp.epochs) * static_cast<std::int64_t>(bpe);
  sched.warmup_start = 0;
  sched.final_lr = 0;
  Adam<double> opt(AdamConfig{0.9, 0.95, 1e-8, 0.1});  // spec §3.2
  Trained tr;
  double sum_gn = 0;
  int first_epoch = 0;
  if (checkpoints != nullptr && checkpoints->load)
    if (const auto kept = checkpoints->load())
      first_epoch = restore_training_state(*kept, hp.epochs, !val.empty(), st, opt, tr, sum_gn);
  auto last_save = std::chrono::steady_clock::now();
  for (int ep = first_epoch; ep < hp.epochs && !tr.diverged; ++ep) {
    Rng shuffle = make_stream(seed, "shuffle", static_cast<std::uint64_t>(ep));
    std::vector<std::size_t> order(N);
    for (std::size_t i = 0; i < N; ++i) order[i] = i;
    for (std::size_t i = N; i > 1; --i)
      std::swap(order[i - 1], order[static_cast<std::size_t>(
                                  uniform_int(shuffle, 0, static_cast<std::int64_t>(i - 1)))]);
    for (std::size_t b = 0; b < bpe; ++b) {
      const std::int64_t step = st.step;
      const double loss = train_step(st, opt, train, order, b * B, sched.lr(step));
      const double gn = global_norm(sv::param_blocks(st.params, st.grads, cfg), true);
      if (!std::isfinite(loss) || !std::isfinite(gn)) {  // train_step skipped the update
        tr.diverged = true;
        tr.diverged_step = static_cast<int>(step);
        break;
      }
      tr.max_grad_norm = std::max(tr.max_grad_norm, gn);
      sum_gn += gn;
    }
    const double wn = global_norm(sv::param_blocks(st.params, st.grads, cfg), false);
    tr.max_weight_norm = std::max(tr.max_weight_norm, wn);
    if (!val.empty()) tr.curve.push_back(tr.diverged ? NAN : evaluate(st.params, cfg, val));
    progress(static_cast<double>(ep + 1) / hp.epochs);
    const auto now = std::chrono::steady_clock::now();
    if (checkpoints != nullptr && checkpoints->save && !tr.diverged && ep + 1 < hp.epochs &&
        std::chrono::duration<double>(now - last_save).count() >= checkpoints->every_seconds) {
      checkpoints->save(training_state(st, opt, tr, sum_gn, ep + 1));
      last_save = now;
    }
  }
  tr.mean_grad_norm = st.step > 0 ? sum_gn / static_cast<double>(st.step) : 0.0;
  tr.final_weight_norm = global_norm(sv::param_blocks(st.params, st.grads, cfg), false);
  tr.params = std::move(st.params);
  return tr;
}

}  // namespace attnlab::var
