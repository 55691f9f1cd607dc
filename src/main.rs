//! The `backfill` binary: parse the command line, run the subcommand, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    backfill::cli::main()
}
