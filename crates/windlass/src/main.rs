//! The `windlass` binary: parse arguments, run one command, render errors once,
//! exit with the command's `ExitStatus`.

use std::process::ExitCode;

mod cli;
mod commands;
mod error;
mod output;
mod progress;
mod sink;

// Rendering allocates and frees many small values; mimalloc is markedly faster and leaner at that than glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::parse();
    match commands::run(args) {
        Ok(status) => status.into(),
        Err(e) => error::report(&e).into(),
    }
}
