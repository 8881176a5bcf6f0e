#include "core/optim.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/error.h"

namespace attnlab {
namespace {

template <class T>
const char* scalar_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

// The unsigned integer with the same bits as T.
template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

nlohmann::json config_json(const AdamConfig& c) {
  // Stored exactly (hex bits) so a config mismatch on resume is detected without rounding doubt.
  return {{"beta1", encode_exact(&c.beta1, 1)},
          {"beta2", encode_exact(&c.beta2, 1)},
          {"eps", encode_exact(&c.eps, 1)},
          {"weight_decay", encode_exact(&c.weight_decay, 1)}};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Exact encoding

template <class T>
std::string encode_exact(const T* data, std::size_t n) {
  static const char digits[] = "0123456789abcdef";
  constexpr std::size_t width = 2 * sizeof(T);
  std::string out(n * width, '0');
  for (std::size_t i = 0; i < n; ++i) {
    Bits<T> b;
    std::memcpy(&b, &data[i], sizeof(T));
    for (std::size_t k = 0; k < width; ++k) {  // most significant nibble first
      out[i * width + width - 1 - k] = digits[static_cast<std::size_t>(b & 0xfu)];
      b = static_cast<Bits<T>>(b >> 4);
    }
  }
  return out;
}

template <class T>
void decode_exact(const std::string& hex, T* out, std::size_t n) {
  constexpr std::size_t width = 2 * sizeof(T);
  if (hex.size() != n * width) {
    throw InputError("exact-encoded " + std::string(scalar_name<T>()) + " array: expected " +
                     std::to_string(n) + " numbers (" + std::to_string(n * width) +
                     " hex digits), got " + std::to_string(hex.size()) + " digits");
  }
  for (std::size_t i = 0; i < n; ++i) {
    Bits<T> b = 0;
    for (std::size_t k = 0; k < width; ++k) {
      const char c = hex[i * width + k];
      unsigned d;
      if (c >= '0' && c <= '9') {
        d = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<unsigned>(c - 'a' + 10);
      } else {
        throw InputError("exact-encoded array: invalid hex digit '" + std::string(1, c) + "'");
      }
      b = static_cast<Bits<T>>((b << 4) | d);
    }
    std::memcpy(&out[i], &b, sizeof(T));
  }
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW

template <class T>
void Adam<T>::step(const std::vector<ParamBlock<T>>& blocks, double lr) {
  if (t_ == 0 && m_.empty()) {
    for (const auto& b : blocks) {
      m_.emplace_back(b.size, T(0));
      v_.emplace_back(b.size, T(0));
    }
  }
  if (m_.size() != blocks.size()) {
    throw InputError("Adam: optimizer state has " + std::to_string(m_.size()) +
                     " parameter blocks, step() got " + std::to_string(blocks.size()));
  }
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    if (m_[k].size() != blocks[k].size) {
      throw InputError("Adam: parameter block '" + blocks[k].name + "' has size " +
                       std::to_string(blocks[k].size) + ", optimizer state has " +
                       std::to_string(m_[k].size()));
    }
  }
  ++t_;
  const AdamConfig& c = config_;
  const double t = static_cast<double>(t_);
  const double step_size = lr / (1.0 - std::pow(c.beta1, t));
  const double sqrt_bc2 = std::sqrt(1.0 - std::pow(c.beta2, t));
  const double decay = lr * c.weight_decay;
  for (std::size_t k = 0; k < blocks.size(); ++k) {
    const ParamBlock<T>& b = blocks[k];
    T* m = m_[k].data();
    T* v = v_[k].data();
    for (std::size_t i = 0; i < b.size; ++i) {
      const double g = static_cast<double>(b.grad[i]);
      double p = static_cast<double>(b.value[i]);
      if (c.weight_decay != 0) p *= 1.0 - decay;
      const double mi = c.beta1 * static_cast<double>(m[i]) + (1.0 - c.beta1) * g;
      const double vi = c.beta2 * static_cast<double>(v[i]) + (1.0 - c.beta2) * (g * g);
      m[i] = static_cast<T>(mi);
      v[i] = static_cast<T>(vi);
      const double denom = std::sqrt(static_cast<double>(v[i])) / sqrt_bc2 + c.eps;
      p -= step_size * (static_cast<double>(m[i]) / denom);
      b.value[i] = static_cast<T>(p);
    }
  }
}

template <class T>
nlohmann::json Adam<T>::state() const {
  nlohmann::json blocks = nlohmann::json::array();
  for (std::size_t k = 0; k < m_.size(); ++k) {
    blocks.push_back({{"size", m_[k].size()},
                      {"m", encode_exact(m_[k].data(), m_[k].size())},
                      {"v", encode_exact(v_[k].data(), v_[k].size())}});
  }
  return {{"optimizer", "adam"},
          {"scalar", scalar_name<T>()},
          {"config", config_json(config_)},
          {"t", t_},
          {"blocks", blocks}};
}

template <class T>
void Adam<T>::load_state(const nlohmann::json& state) {
  try {
    if (state.at("optimizer").get<std::string>() != "adam" ||
        state.at("scalar").get<std::string>() != scalar_name<T>()) {
      throw InputError("Adam::load_state: state is for optimizer '" +
                       state.at("optimizer").get<std::string>() + "' with scalar '" +
                       state.at("scalar").get<std::string>() + "', expected adam/" +
                       scalar_name<T>());
    }
    if (state.at("config") != config_json(config_)) {
      throw InputError("Adam::load_state: state was written with another AdamConfig " +
                       state.at("config").dump());
    }
    const auto t = state.at("t").get<std::int64_t>();
    std::vector<std::vector<T>> m, v;
    for (const auto& b : state.at("blocks")) {
      const auto n = b.at("size").get<std::size_t>();
      m.emplace_back(n);
      v.emplace_back(n);
      decode_exact(b.at("m").get<std::string>(), m.back().data(), n);
      decode_exact(b.at("v").get<std::string>(), v.back().data(), n);
    }
    t_ = t;
    m_ = std::move(m);
    v_ = std::move(v);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("Adam::load_state: malformed state: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// SGD, clipping, NaN guard

template <class T>
void sgd_step(const std::vector<ParamBlock<T>>& blocks, double lr) {
  for (const auto& b : blocks) {
    for (std::size_t i = 0; i < b.size; ++i) {
      b.value[i] =
          static_cast<T>(static_cast<double>(b.value[i]) - lr * static_cast<double>(b.grad[i]));
    }
  }
}

template <class T>
double clip_global_norm(const std::vector<ParamBlock<T>>& blocks, double max_norm) {
  if (!(max_norm > 0)) {
    throw InputError("clip_global_norm: max_norm must be > 0, got " + std::to_string(max_norm));
  }
  double sum_sq = 0;
  for (const auto& b : blocks) {
    for (std::size_t i = 0; i < b.size; ++i) {
      const double g = static_cast<double>(b.grad[i]);
      sum_sq += g * g;
    }
  }
  const double norm = std::sqrt(sum_sq);
  if (std::isfinite(norm) && norm > max_norm) {
    const double scale = max_norm / norm;
    for (const auto& b : blocks) {
      for (std::size_t i = 0; i < b.size; ++i) {
        b.grad[i] = static_cast<T>(static_cast<double>(b.grad[i]) * scale);
      }
    }
  }
  return norm;
}

template <class T>
void check_finite(const std::vector<ParamBlock<T>>& blocks, std::int64_t step) {
  const auto fail = [&](const ParamBlock<T>& b, const char* what, std::size_t i) {
    throw NumericError("step " + std::to_string(step) + ": parameter block '" + b.name +
                       "' has a NaN/Inf " + what + " at index " + std::to_string(i));
  };
  for (const auto& b : blocks) {
    for (std::size_t i = 0; i < b.size; ++i) {
      if (!std::isfinite(b.value[i])) fail(b, "value", i);
    }
  }
  for (const auto& b : blocks) {
    for (std::size_t i = 0; i < b.size; ++i) {
      if (!std::isfinite(b.grad[i])) fail(b, "gradient", i);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Schedules

void Schedule::validate() const {
  const auto bad = [](const std::string& why) {
    throw InputError("learning-rate schedule: " + why);
  };
  if (!std::isfinite(base_lr) || base_lr < 0) bad("base_lr must be finite and >= 0");
  if (total_steps < 1) bad("total_steps must be >= 1");
  if (kind == Kind::StepDecay) {
    if (milestones.size() != factors.size()) bad("StepDecay needs one factor per milestone");
    for (std::size_t k = 0; k < milestones.size(); ++k) {
      if (!(milestones[k] >= 0 && milestones[k] <= 1)) bad("milestones must be in [0, 1]");
      if (k > 0 && milestones[k] < milestones[k - 1]) bad("milestones must be non-decreasing");
      if (!std::isfinite(factors[k]) || factors[k] < 0) bad("factors must be finite and >= 0");
    }
  }
  if (kind == Kind::WarmupLinear) {
    if (warmup_steps < 0 || warmup_steps >= total_steps) {
      bad("WarmupLinear needs 0 <= warmup_steps < total_steps");
    }
    if (!std::isfinite(warmup_start) || warmup_start < 0) bad("warmup_start must be >= 0");
    if (!std::isfinite(final_lr) || final_lr < 0) bad("final_lr must be finite and >= 0");
  }
  if (kind == Kind::OneCycleLinear) {
    const double end = pct_start * static_cast<double>(total_steps) - 1;
    // torch divides by E in the warm-up phase and by N - 1 - E after it; E < 0 (fewer steps
    // than 1 / pct_start) leaves no warm-up step, as in torch.
    if (!(pct_start > 0 && pct_start < 1) || pct_start * static_cast<double>(total_steps) == 1 ||
        !(end < static_cast<double>(total_steps) - 1))
      bad("OneCycleLinear needs 0 < pct_start < 1, pct_start * total_steps != 1 and "
          "pct_start * total_steps - 1 < total_steps - 1");
    if (!(div_factor > 0) || !(final_div_factor > 0) || !std::isfinite(div_factor) ||
        !std::isfinite(final_div_factor))
      bad("OneCycleLinear needs finite div_factor > 0 and final_div_factor > 0");
  }
}

double Schedule::lr(std::int64_t step) const {
  validate();
  if (step < 0) throw InputError("learning-rate schedule: step must be >= 0");
  const double s = static_cast<double>(step);
  switch (kind) {
    case Kind::Constant:
      return base_lr;
    case Kind::StepDecay: {
      double factor = 1;
      for (std::size_t k = 0; k < milestones.size(); ++k) {
        const double at = std::round(milestones[k] * static_cast<double>(total_steps));
        if (s >= at) factor = factors[k];
      }
      return base_lr * factor;
    }
    case Kind::WarmupLinear: {
      const double w = static_cast<double>(warmup_steps);
      if (step < warmup_steps) return base_lr * (warmup_start + (1 - warmup_start) * s / w);
      const double frac = std::min(1.0, (s - w) / (static_cast<double>(total_steps) - w));
      return base_lr + (final_lr - base_lr) * frac;
    }
    case Kind::OneCycleLinear: {  // torch's OneCycleLR.get_lr, linear annealing, two phases
      const double initial = base_lr / div_factor, min_lr = initial / final_div_factor;
      const double end = pct_start * static_cast<double>(total_steps) - 1;
      if (s <= end) return (base_lr - initial) * (s / end) + initial;
      const double pct = (s - end) / (static_cast<double>(total_steps) - 1 - end);
      return (min_lr - base_lr) * pct + base_lr;
    }
  }
  return base_lr;
}

// ---------------------------------------------------------------------------------------------
// Explicit instantiations

#define ATTNLAB_OPTIM_INSTANTIATE(T)                                              \
  template class Adam<T>;                                                         \
  template void sgd_step<T>(const std::vector<ParamBlock<T>>&, double);           \
  template double clip_global_norm<T>(const std::vector<ParamBlock<T>>&, double); \
  template void check_finite<T>(const std::vector<ParamBlock<T>>&, std::int64_t); \
  template std::string encode_exact<T>(const T*, std::size_t);                    \
  template void decode_exact<T>(const std::string&, T*, std::size_t);

ATTNLAB_OPTIM_INSTANTIATE(float)
ATTNLAB_OPTIM_INSTANTIATE(double)
#undef ATTNLAB_OPTIM_INSTANTIATE

}  // namespace attnlab
