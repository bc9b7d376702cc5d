//! The `berth` binary: parse the command line (bad flags exit 125 with
//! clap's message, as Docker's flag errors do), run it, exit with its
//! status.

use clap::error::ErrorKind;
use clap::Parser;

fn main() {
    let cli = match berth_cli::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let status = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => berth_cli::errors::RUN_ERROR,
            };
            std::process::exit(status);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let status = runtime.block_on(berth_cli::commands::dispatch(cli));
    // Exit now: a blocking stdin read must not hold the process.
    std::process::exit(status);
}
