//! Throwaway databases for tests: a fresh SQLite file or a fresh PostgreSQL database
//! per test, so tests never see each other's rows.
//!
//! PostgreSQL tests need `HASHMARKET_TEST_POSTGRES_URL` (a server URL whose user may
//! `CREATE DATABASE`; `scripts/test` starts such a server and sets it). Without it they
//! fail loudly — a test that needs PostgreSQL is never silently skipped.

use std::path::PathBuf;

use sqlx::{Connection, Executor, PgConnection};

use crate::Backend;

/// The environment variable naming the PostgreSQL server tests create databases on.
pub const POSTGRES_URL_ENV: &str = "HASHMARKET_TEST_POSTGRES_URL";

/// A database made for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to connect to it.
    pub url: String,
    /// Which engine it is.
    pub backend: Backend,
    /// For SQLite: the directory holding the file, removed when this value drops.
    dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server URL and database name, to drop it.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh, empty database of the given engine.
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// Another handle on the same database that owns nothing: dropping it neither
    /// removes the SQLite directory nor drops the PostgreSQL database.
    pub fn alias(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            backend: self.backend,
            dir: None,
            postgres: None,
        }
    }

    fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("create a temp dir for a SQLite test database");
        let path: PathBuf = dir.path().join("hashmarket.db");
        TestDatabase {
            url: format!("sqlite://{}", path.display()),
            backend: Backend::Sqlite,
            dir: Some(dir),
            postgres: None,
        }
    }

    async fn postgres() -> TestDatabase {
        let server = std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_ENV} is not set: PostgreSQL tests need a server. \
                 Run ./scripts/test, which starts one."
            )
        });
        let name = format!("hm_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {POSTGRES_URL_ENV}: {e}"));
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create a PostgreSQL test database");
        let url = with_database(&server, &name);
        TestDatabase {
            url,
            backend: Backend::Postgres,
            dir: None,
            postgres: Some((server, name)),
        }
    }

    /// Destroys the database while it may still be in use, to test what happens when
    /// it is gone: PostgreSQL drops it (ending its sessions), SQLite removes the file.
    pub async fn destroy(&self) {
        if let Some((server, name)) = &self.postgres {
            let mut admin = PgConnection::connect(server)
                .await
                .expect("reach PostgreSQL");
            admin
                .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
                .await
                .expect("drop the test database");
        }
        if let Some(dir) = &self.dir {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.path().join(format!("hashmarket.db{suffix}")));
            }
        }
    }
}

/// `server` with its database path replaced by `database`.
fn with_database(server: &str, database: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut url = format!("{}/{database}", &base[..host_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_replaced_in_url() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "t1"),
            "postgres://u@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h:1", "t1"),
            "postgres://u@h:1/t1"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
    }
}
