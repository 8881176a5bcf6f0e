// attnlab: re-runs the theoretical claims of papers on attention and linear transformers.
// This file only parses the command line; every subcommand lives in experiments/cli/.
#include <iostream>
#include <string>

#include "core/error.h"
#include "experiments/claim.h"
#include "experiments/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"attnlab: re-run the theoretical claims of attention papers as experiments"};
  app.require_subcommand(1);
  // Claims of the user's own, beside the built-in ones; accepted before or after the command.
  app.fallthrough();
  app.add_option("--claims-dir",
                 "a folder of your own claim files (*.json, any layout; "
                 "repeatable), loaded beside the built-in claims; see docs/own-claims.md")
      ->each([](const std::string& d) { attnlab::add_user_claims_dir(d); })
      ->type_name("DIR");
  attnlab::add_list_command(app);
  attnlab::add_run_command(app);
  attnlab::add_verify_command(app);
  attnlab::add_synth_command(app);
  attnlab::add_report_command(app);
  attnlab::add_bench_command(app);
  attnlab::add_plan_commands(app);
  attnlab::add_runs_commands(app);
  attnlab::add_describe_commands(app);
  // CLI11 says only "A subcommand is required" for a mistyped one: name the word and the choices.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->get_name() == argv[1];
    }
    if (!known) {
      std::cerr << "attnlab: unknown command '" << argv[1] << "' (allowed: " << names
                << "; see attnlab --help)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // verdict mismatch: the table was already printed
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    std::cerr << "attnlab: " << e.what() << " (see attnlab --help)\n";
    return 2;
  } catch (const attnlab::InputError& e) {
    std::cerr << "attnlab: " << e.what() << "\n";
    return 2;
  } catch (const attnlab::NumericError& e) {
    std::cerr << "attnlab: numeric failure: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "attnlab: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
