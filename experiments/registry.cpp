#include "experiments/registry.h"

#include <set>
#include <stdexcept>

namespace attnlab {

const std::vector<ExperimentKind>& experiment_kinds() {
  static const std::vector<ExperimentKind> kinds = [] {
    std::vector<ExperimentKind> all;
    for (auto part :
         {icl_experiments(), var_experiments(), curse_experiments(), ett_experiments()}) {
      for (auto& k : part) all.push_back(std::move(k));
    }
    std::map<std::string, KindDeclaration> declared;
    for (const auto* part :
         {&icl_declarations(), &var_declarations(), &curse_declarations(), &ett_declarations()})
      declared.insert(part->begin(), part->end());
    declare_kinds(all, declared);
    std::set<std::string> names;
    for (const auto& k : all) {
      if (!names.insert(k.name).second) {
        throw std::logic_error("experiment kind '" + k.name + "' is registered twice");
      }
    }
    return all;
  }();
  return kinds;
}

const ExperimentKind* find_experiment(std::string_view name) {
  for (const auto& k : experiment_kinds()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace attnlab
