//! Structured logs with tracing: human-readable text on a terminal, or one JSON
//! object per line for log shippers. `RUST_LOG` filters (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// `key=value` text.
    Text,
    /// One JSON object per line.
    Json,
}

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTo {
    /// The server's logs: its standard output is nothing but logs.
    Stdout,
    /// Every other command: standard output is the command's result (an export
    /// written to stdout must not have log lines mixed into it).
    Stderr,
}

/// Installs the global subscriber.
pub fn init(format: LogFormat, to: LogTo) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = match to {
        LogTo::Stdout => std::io::stdout().is_terminal(),
        LogTo::Stderr => std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(terminal);
    match (format, to) {
        (LogFormat::Text, LogTo::Stdout) => builder.init(),
        (LogFormat::Json, LogTo::Stdout) => builder.json().flatten_event(true).init(),
        (LogFormat::Text, LogTo::Stderr) => builder.with_writer(std::io::stderr).init(),
        (LogFormat::Json, LogTo::Stderr) => builder
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .init(),
    }
}
