//! `berth-init [--] PROGRAM [ARGS...]`: see the crate's README.

use std::process::ExitCode;

use berth_init::args::{parse, Invocation, USAGE};

fn main() -> ExitCode {
    let code = match parse(std::env::args_os().skip(1)) {
        Ok(Invocation::Run(argv)) => berth_init::run(&argv),
        Ok(Invocation::Help) => {
            print!("{USAGE}");
            0
        }
        Ok(Invocation::Version) => {
            println!("berth-init {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Err(e) => {
            eprint!("berth-init: {e}\n{USAGE}");
            1
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}
