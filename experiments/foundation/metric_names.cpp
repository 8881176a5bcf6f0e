// The metrics each experiment kind of experiments/foundation/ emits ('*': a parameter value such
// as a width, a noise level or a variant). A claim may only name these; the runner rejects
// any metric a kind emits without declaring it.
#include "experiments/registry.h"

namespace attnlab {

const std::map<std::string, KindDeclaration>& foundation_declarations() {
  static const std::map<std::string, KindDeclaration> table = {
      {"synth_curse_generator",
       {{"*.acceptance_abs_z", "*.acceptance_closed_form", "*.acceptance_rate",
         "*.core_bg_orth_err", "*.gamma_err", "*.id_xd_y", "*.id_xd_y_abs_z",
         "*.linear_solution_ood_risk", "*.linear_solution_risk_closed_form", "*.ood_max_ud_ud*",
         "*.ood_y*", "*.ood_y*_closed_form", "*.ood_y*_rel_err", "*.ood_y*_rel_se", "*.p_last_norm",
         "*.property*_err", "*.ssm_max_abs_err", "*.sum_to_one_err", "*.unit_norm_err"},
        /*trained=*/false}},
      {"synth_icl_moments",
       {{"set.context_y*_closed_form",
         "set.context_y*_mean",
         "set.cross_max_abs_z",
         "set.noise_var_abs_z",
         "set.query_target_max_abs_err",
         "set.sigma*_closed_form",
         "set.sigma*_mean",
         "set.sigma_max_abs_z",
         "set.w_mean_max_abs_z",
         "set.w_second_max_abs_z",
         "set.x_mean_max_abs_z",
         "set.x_second_max_abs_z",
         "set.y_max_abs_z",
         "uniform.context_y*_closed_form",
         "uniform.context_y*_mean",
         "uniform.cross_max_abs_z",
         "uniform.noise_var_abs_z",
         "uniform.query_target_max_abs_err",
         "uniform.sigma*_closed_form",
         "uniform.sigma*_mean",
         "uniform.sigma_max_abs_z",
         "uniform.w_mean_max_abs_z",
         "uniform.w_second_max_abs_z",
         "uniform.x_mean_max_abs_z",
         "uniform.x_second_max_abs_z",
         "uniform.y_max_abs_z"},
        /*trained=*/false}},
      {"synth_var_stationary",
       {{"autocov_lag*_rel_err_max", "autocov_max_abs_z", "autocov_mean_z*", "autocov_z_count",
         "lyapunov_rel_residual_max", "radius_excess_max", "radius_max", "rescaled_fraction",
         "samovar_train.clipped_fraction", "samovar_train.explosive_count",
         "samovar_train.explosive_fraction", "samovar_train.explosive_vs_numpy_abs_z",
         "samovar_train.explosive_vs_spec_abs_z", "samovar_train.max_radius",
         "samovar_val.clipped_fraction", "samovar_val.explosive_count",
         "samovar_val.explosive_fraction", "samovar_val.explosive_vs_numpy_abs_z",
         "samovar_val.max_radius"},
        /*trained=*/false}},
  };
  return table;
}

}  // namespace attnlab
