#include "core/train_loop.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "core/io.h"

namespace attnlab {
namespace {

constexpr const char* kFormat = "attnlab.checkpoint.v1";

template <class T>
const char* scalar_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

const char* optimizer_name(TrainLoopOptions::Optimizer o) {
  return o == TrainLoopOptions::Optimizer::Adam ? "adam" : "sgd";
}

template <class T>
void save_checkpoint(const std::filesystem::path& path, const std::vector<ParamBlock<T>>& blocks,
                     const TrainLoopOptions& options, const Adam<T>& adam, std::int64_t step,
                     const TrainResult& r) {
  nlohmann::json jb = nlohmann::json::array();
  for (const auto& b : blocks) {
    jb.push_back({{"name", b.name}, {"size", b.size}, {"value", encode_exact(b.value, b.size)}});
  }
  write_json_atomic(path, {{"format", kFormat},
                           {"scalar", scalar_name<T>()},
                           {"optimizer", optimizer_name(options.optimizer)},
                           {"step", step},
                           {"blocks", jb},
                           {"adam", adam.state()},
                           {"losses", encode_exact(r.losses.data(), r.losses.size())},
                           {"grad_norms", encode_exact(r.grad_norms.data(), r.grad_norms.size())}});
}

// Restores values, optimizer state and history; returns the step count stored.
template <class T>
std::int64_t load_checkpoint(const std::filesystem::path& path,
                             const std::vector<ParamBlock<T>>& blocks,
                             const TrainLoopOptions& options, Adam<T>& adam, TrainResult& r) {
  const nlohmann::json j = read_json_file(path);
  const std::string where = "checkpoint '" + path.string() + "': ";
  try {
    if (j.at("format") != kFormat || j.at("scalar") != scalar_name<T>() ||
        j.at("optimizer") != optimizer_name(options.optimizer)) {
      throw InputError(where + "written for " + j.at("format").dump() + " " +
                       j.at("scalar").dump() + " " + j.at("optimizer").dump() + ", expected " +
                       kFormat + " " + scalar_name<T>() + " " + optimizer_name(options.optimizer));
    }
    const auto step = j.at("step").get<std::int64_t>();
    if (step < 0 || step > options.steps) {
      throw InputError(where + "step " + std::to_string(step) + " is outside 0.." +
                       std::to_string(options.steps));
    }
    const auto& jb = j.at("blocks");
    if (jb.size() != blocks.size()) {
      throw InputError(where + "has " + std::to_string(jb.size()) +
                       " parameter blocks, model has " + std::to_string(blocks.size()));
    }
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      if (jb[k].at("name") != blocks[k].name || jb[k].at("size") != blocks[k].size) {
        throw InputError(where + "block " + std::to_string(k) + " is " + jb[k].at("name").dump() +
                         " of size " + jb[k].at("size").dump() + ", model has '" + blocks[k].name +
                         "' of size " + std::to_string(blocks[k].size));
      }
    }
    const auto n = static_cast<std::size_t>(step);
    const bool clip = options.clip_norm > 0;
    std::vector<double> losses(n), norms(clip ? n : 0);
    decode_exact(j.at("losses").get<std::string>(), losses.data(), losses.size());
    decode_exact(j.at("grad_norms").get<std::string>(), norms.data(), norms.size());
    Adam<T> restored(options.adam);
    if (options.optimizer == TrainLoopOptions::Optimizer::Adam) restored.load_state(j.at("adam"));
    // All checks passed: commit.
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      decode_exact(jb[k].at("value").get<std::string>(), blocks[k].value, blocks[k].size);
    }
    adam = std::move(restored);
    r.losses = std::move(losses);
    r.grad_norms = std::move(norms);
    return step;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + "malformed: " + e.what());
  } catch (const InputError& e) {
    const std::string msg = e.what();
    if (msg.rfind(where, 0) == 0) throw;
    throw InputError(where + msg);
  }
}

}  // namespace

template <class T>
TrainResult train_loop(const std::vector<ParamBlock<T>>& blocks, const TrainLoopOptions& options,
                       const TrainStepFn& step_fn, const TrainProgressFn& progress) {
  if (options.steps < 0) throw InputError("train_loop: steps must be >= 0");
  options.schedule.validate();
  TrainResult r;
  Adam<T> adam(options.adam);
  const bool checkpointing = !options.checkpoint.empty();
  std::int64_t start = 0;
  if (checkpointing && options.resume && std::filesystem::exists(options.checkpoint)) {
    start = load_checkpoint(options.checkpoint, blocks, options, adam, r);
    r.resumed_from = start;
  }
  r.losses.reserve(static_cast<std::size_t>(options.steps));
  for (std::int64_t s = start; s < options.steps; ++s) {
    for (const auto& b : blocks) std::fill(b.grad, b.grad + b.size, T(0));
    const double loss = step_fn(s);
    if (!std::isfinite(loss)) {
      throw NumericError("step " + std::to_string(s) + ": loss is " + std::to_string(loss));
    }
    check_finite(blocks, s);
    if (options.clip_norm > 0) r.grad_norms.push_back(clip_global_norm(blocks, options.clip_norm));
    const double lr = options.schedule.lr(s);
    if (options.optimizer == TrainLoopOptions::Optimizer::Adam) {
      adam.step(blocks, lr);
    } else {
      sgd_step(blocks, lr);
    }
    r.losses.push_back(loss);
    const std::int64_t done = s + 1;
    const bool last = done == options.steps;
    if (progress && ((options.log_every > 0 && done % options.log_every == 0) || last)) {
      std::ostringstream label;
      label << "step " << done << "/" << options.steps << " loss " << loss;
      progress(static_cast<double>(done) / static_cast<double>(options.steps), label.str());
    }
    if (checkpointing &&
        ((options.checkpoint_every > 0 && done % options.checkpoint_every == 0) || last)) {
      save_checkpoint(options.checkpoint, blocks, options, adam, done, r);
    }
  }
  return r;
}

template TrainResult train_loop<float>(const std::vector<ParamBlock<float>>&,
                                       const TrainLoopOptions&, const TrainStepFn&,
                                       const TrainProgressFn&);
template TrainResult train_loop<double>(const std::vector<ParamBlock<double>>&,
                                        const TrainLoopOptions&, const TrainStepFn&,
                                        const TrainProgressFn&);

}  // namespace attnlab
