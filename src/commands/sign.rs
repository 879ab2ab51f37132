//! `hashmarket sign`: the headers of a signed request, computed exactly as the
//! server checks them (the same `signing` module), with the string-to-sign shown
//! so a client's can be compared line by line.

use anyhow::Context;
use clap::Args;
use hashmarket_api::auth::signing::{
    nonce_is_valid, SignedParts, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};

/// What to sign.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The API key (`HM-Key`).
    #[arg(long, env = "HASHMARKET_API_KEY")]
    key: String,
    /// The API secret.
    #[arg(long, env = "HASHMARKET_API_SECRET", hide_env_values = true)]
    secret: String,
    /// HTTP method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// Path and query exactly as sent, e.g. `/v1/orders?market=sha256-30d`.
    #[arg(long)]
    path: String,
    /// The body, exactly as sent (none for GET).
    #[arg(long, default_value = "", conflicts_with = "body_file")]
    body: String,
    /// Read the body from this file instead.
    #[arg(long)]
    body_file: Option<std::path::PathBuf>,
    /// Milliseconds since the epoch (default: now).
    #[arg(long)]
    timestamp: Option<i64>,
    /// The nonce (default: 32 random hex digits).
    #[arg(long)]
    nonce: Option<String>,
}

/// Prints `Header: value` lines for curl's `-H @file` or by hand, and the string-to-sign.
pub fn run(args: SignArgs) -> anyhow::Result<()> {
    let body = match &args.body_file {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => args.body.clone().into_bytes(),
    };
    let timestamp = args
        .timestamp
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis())
        .to_string();
    let nonce = args
        .nonce
        .clone()
        .unwrap_or_else(|| hashmarket_api::crypto::random_hex(16));
    anyhow::ensure!(
        nonce_is_valid(&nonce),
        "a nonce is 1–64 characters of [A-Za-z0-9_-]"
    );
    let parts = SignedParts {
        timestamp_ms: &timestamp,
        nonce: &nonce,
        method: &args.method.to_ascii_uppercase(),
        path_and_query: &args.path,
        body: &body,
    };
    println!("{HEADER_KEY}: {}", args.key);
    println!("{HEADER_TIMESTAMP}: {timestamp}");
    println!("{HEADER_NONCE}: {nonce}");
    println!("{HEADER_SIGNATURE}: {}", parts.sign(args.secret.as_bytes()));
    eprintln!(
        "string-to-sign (between the lines):\n---\n{}\n---",
        parts.string_to_sign()
    );
    Ok(())
}
