//! The conformance suite: every test here runs against SQLite and PostgreSQL, and both
//! must pass. Add a test by writing an `async fn name(store: Arc<dyn Store>)` and
//! listing it in the `conformance!` invocation at the bottom.

use std::sync::Arc;

use hashmarket_store::testing::TestDatabase;
use hashmarket_store::{connect, Backend, ConnectOptions, Store, StoreError};

/// Declares one `#[tokio::test]` per backend for each listed test function.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::run(hashmarket_store::Backend::Sqlite, super::$name).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::run(hashmarket_store::Backend::Postgres, super::$name).await;
            })*
        }
    };
}

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Arc<dyn Store>, TestDatabase) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let db = TestDatabase::new(backend).await;
    let store = connect(&db.url, &ConnectOptions::default())
        .await
        .expect("open and migrate a fresh database");
    assert_eq!(store.backend(), backend);
    test(store, db).await;
}

async fn fresh_database_is_at_current_schema(store: Arc<dyn Store>, _db: TestDatabase) {
    let version = store.schema_version().await.unwrap();
    assert!(version >= 1, "migrations applied, got version {version}");
    store.ping().await.expect("a fresh database is ready");
}

async fn migrate_twice_is_a_no_op(store: Arc<dyn Store>, _db: TestDatabase) {
    let before = store.schema_version().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), before);
}

async fn settings_round_trip(store: Arc<dyn Store>, _db: TestDatabase) {
    assert_eq!(store.setting("clock").await.unwrap(), None);
    store.put_setting("clock", "a").await.unwrap();
    assert_eq!(store.setting("clock").await.unwrap().as_deref(), Some("a"));
    store.put_setting("clock", "b").await.unwrap();
    assert_eq!(store.setting("clock").await.unwrap().as_deref(), Some("b"));
}

async fn put_if_absent_keeps_the_first_value(store: Arc<dyn Store>, _db: TestDatabase) {
    assert_eq!(
        store.put_setting_if_absent("k", "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        store.put_setting_if_absent("k", "second").await.unwrap(),
        "first"
    );
    assert_eq!(store.setting("k").await.unwrap().as_deref(), Some("first"));
}

async fn racing_put_if_absent_agrees_on_one_value(store: Arc<dyn Store>, _db: TestDatabase) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.put_setting_if_absent("race", &i.to_string()).await })
        })
        .collect();
    let mut winners = std::collections::BTreeSet::new();
    for task in tasks {
        winners.insert(task.await.unwrap().unwrap());
    }
    assert_eq!(
        winners.len(),
        1,
        "every racer sees the same stored value: {winners:?}"
    );
}

async fn oversized_settings_are_refused(store: Arc<dyn Store>, _db: TestDatabase) {
    let long_key = "k".repeat(hashmarket_store::SETTING_KEY_MAX_BYTES + 1);
    assert!(matches!(
        store.put_setting(&long_key, "v").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.put_setting("", "v").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.setting(&long_key).await.unwrap(), None);
}

async fn newer_schema_is_refused(store: Arc<dyn Store>, db: TestDatabase) {
    // A future binary applied migration 99_999_999; this one must refuse the database.
    let sql =
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
               VALUES (99999999, 'from the future', TRUE, X'00', 0)";
    let sql = match store.backend() {
        Backend::Postgres => sql.replace("X'00'", "'\\x00'::bytea"),
        Backend::Sqlite => sql.to_string(),
    };
    raw_execute(&db, &sql).await;
    store.close().await;
    let err = connect(&db.url, &ConnectOptions::default())
        .await
        .err()
        .expect("a newer database is refused");
    match err {
        StoreError::SchemaTooNew {
            database_version, ..
        } => assert_eq!(database_version, 99_999_999),
        other => panic!("expected SchemaTooNew, got {other}"),
    }
}

async fn ping_fails_when_the_database_is_gone(store: Arc<dyn Store>, db: TestDatabase) {
    store.ping().await.unwrap();
    db.destroy().await;
    assert!(store.ping().await.is_err());
}

/// Runs one statement on the test database outside the store, as an intruder would.
async fn raw_execute(db: &TestDatabase, sql: &str) {
    use sqlx::{Connection, Executor};
    match db.backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            c.execute(sql).await.unwrap();
        }
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            c.execute(sql).await.unwrap();
        }
    }
}

conformance!(
    fresh_database_is_at_current_schema,
    migrate_twice_is_a_no_op,
    settings_round_trip,
    put_if_absent_keeps_the_first_value,
    racing_put_if_absent_agrees_on_one_value,
    oversized_settings_are_refused,
    newer_schema_is_refused,
    ping_fails_when_the_database_is_gone,
    one_process_owns_a_market,
);

/// Two stores on one database: only one may run a market's sequencer at a time, and
/// the lease passes on when its holder lets go.
async fn one_process_owns_a_market(store: Arc<dyn Store>, db: TestDatabase) {
    let other = connect(&db.url, &ConnectOptions::default()).await.unwrap();
    let mine = store.try_lease_market("sha256-30d").await.unwrap();
    assert!(mine.is_some(), "the first taker gets the lease");
    assert!(
        store.try_lease_market("sha256-7d").await.unwrap().is_some(),
        "a process may own many markets"
    );
    assert!(
        other
            .try_lease_market("sha256-30d")
            .await
            .unwrap()
            .is_none(),
        "another process cannot take a held market"
    );
    if store.backend() == Backend::Postgres {
        assert!(
            other.try_lease_market("scrypt-1d").await.unwrap().is_some(),
            "PostgreSQL leases are per market"
        );
        drop(mine);
        // The lock goes with the connection; allow the server a moment to notice.
        let mut taken = false;
        for _ in 0..50 {
            if other
                .try_lease_market("sha256-30d")
                .await
                .unwrap()
                .is_some()
            {
                taken = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(taken, "a released market can be taken over");
    }
}
