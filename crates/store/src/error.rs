//! The one error type of the persistence layer.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is neither `sqlite:` nor `postgres:`/`postgresql:`.
    #[error("unsupported database URL {url:?}: expected sqlite://PATH or postgres://...")]
    UnsupportedUrl {
        /// The URL as given (credentials are not logged by callers).
        url: String,
    },
    /// The database was migrated by a newer binary than this one.
    #[error(
        "the database schema is newer than this binary: it has migration {database_version} \
         applied, this binary knows up to {binary_version}; run a newer hashmarket"
    )]
    SchemaTooNew {
        /// The unknown migration version found in the database.
        database_version: i64,
        /// The newest migration this binary ships.
        binary_version: i64,
    },
    /// A migration failed to apply, or an applied one was edited after the fact.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database answered with an error, or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database is reachable but not usable (e.g. the SQLite file was removed).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row that must exist does not, or one that must be unique already does.
    #[error("{0}")]
    Conflict(String),
    /// A value read back from the database could not be decoded.
    #[error("corrupt value in column {column}: {detail}")]
    Corrupt {
        /// Column name.
        column: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

impl StoreError {
    /// Maps sqlx's migration error onto [`StoreError::SchemaTooNew`] where that is what it means.
    pub(crate) fn from_migrate(err: sqlx::migrate::MigrateError, binary_version: i64) -> Self {
        match err {
            sqlx::migrate::MigrateError::VersionMissing(database_version) => {
                StoreError::SchemaTooNew {
                    database_version,
                    binary_version,
                }
            }
            other => StoreError::Migrate(other),
        }
    }
}
