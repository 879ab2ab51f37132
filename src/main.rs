//! The `hashmarket` binary: the server and the operator's commands.

mod cli;
mod commands;
mod logging;

use clap::Parser;

/// mimalloc instead of glibc's malloc: accrual of a million contracts spent about
/// a third of its time in glibc's allocator (chunk consolidation and unlinking);
/// the server's per-request allocations gain too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let to = if cli.is_serve() {
        logging::LogTo::Stdout
    } else {
        logging::LogTo::Stderr
    };
    logging::init(cli.log_format, to);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hashmarket: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("hashmarket: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
