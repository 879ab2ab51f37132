//! `hashmarket user create`: makes accounts from the command line — how the first
//! operator comes to exist. Users made here are verified.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use hashmarket_api::auth::accounts::create_user;
use hashmarket_api::auth::Role;
use hashmarket_store::{connect, redact_url, ConnectOptions};

/// Manage users.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a verified user.
    Create(CreateArgs),
}

/// The role a created user gets.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Buyer and/or seller.
    User,
    /// Credits, hashprice, deliveries, withdrawal processing.
    Operator,
    /// Exports and reconciliation.
    Finance,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::User => Role::User,
            RoleArg::Operator => Role::Operator,
            RoleArg::Finance => Role::Finance,
        }
    }
}

/// `user create` arguments.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Email address.
    #[arg(long)]
    email: String,
    /// Password (12–128 characters); prefer HASHMARKET_USER_PASSWORD over the flag.
    #[arg(long, env = "HASHMARKET_USER_PASSWORD", hide_env_values = true)]
    password: String,
    /// Role.
    #[arg(long, value_enum, default_value = "user")]
    role: RoleArg,
    /// Database URL.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://./hashmarket.db")]
    database_url: String,
}

/// Runs a `user` subcommand.
pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create(args) => {
            let store = connect(&args.database_url, &ConnectOptions::default())
                .await
                .with_context(|| format!("opening {}", redact_url(&args.database_url)))?;
            let id = create_user(&*store, &args.email, &args.password, args.role.into(), true)
                .await
                .context("creating the user")?;
            println!("{id}");
            store.close().await;
            Ok(())
        }
    }
}
