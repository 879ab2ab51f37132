//! HM-7 §4: the ledger's hash chain names the first altered entry.

use hashmarket_api::auth::Role;
use hashmarket_store::Backend;

use super::contracts;
use crate::fixtures::user;
use crate::helpers::TestApp;
use crate::on_both_backends;

/// Runs `postgres_sql` or `sqlite_sql`, by backend, on the app's database behind
/// the server's back.
async fn execute(app: &TestApp, postgres_sql: &str, sqlite_sql: &str) {
    match app.store.backend() {
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
            sqlx::query(postgres_sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
            sqlx::query(sqlite_sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}

/// What `hashmarket verify` reports for the app's database, as text.
async fn violations(app: &TestApp) -> Vec<String> {
    hashmarket_market::verify::verify(&*app.store)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

async fn an_altered_entry_breaks_the_chain_and_verify_names_it(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let seller = user(&app, Role::User, true).await;
    let buyer = user(&app, Role::User, true).await;
    contracts(&app, &operator, &seller, &[&buyer], "10 TH/s").await;
    assert!(violations(&app).await.is_empty());
    let (head, entries) = app.store.chain_head().await.unwrap();
    assert!(
        entries >= 6,
        "credit, hold, fill, fee, ... are chained: {entries}"
    );
    assert_ne!(head, hashmarket_store::chain::GENESIS);
    // Change the third entry's balance_after behind the server's back.
    let third = app.store.chained_entries(0, 3).await.unwrap()[2].seq;
    execute(
        &app,
        &format!("UPDATE ledger_entries SET balance_after = balance_after + 1 WHERE seq = {third}"),
        &format!("UPDATE ledger_entries SET balance_after = '999' WHERE seq = {third}"),
    )
    .await;
    let violations = violations(&app).await;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].contains(&format!("ledger entry {third} breaks the hash chain")),
        "{violations:?}"
    );
}

/// The copy of a transfer's kind on its entries (what exports read) is checked
/// against the transfer.
async fn an_entry_whose_kind_was_changed_is_named(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let buyer = user(&app, Role::User, true).await;
    app.credit(&operator, &buyer, "1").await;
    let first = app.store.chained_entries(0, 1).await.unwrap()[0].seq;
    let sql = format!("UPDATE ledger_entries SET kind = 'refund' WHERE seq = {first}");
    execute(&app, &sql, &sql).await;
    assert_eq!(
        violations(&app).await,
        [format!(
            "ledger entry {first}: its kind or links differ from its transfer's"
        )]
    );
}

/// No foreign key ties an entry to its transfer (the writer checks it, migration
/// 0013 on PostgreSQL): verify names an entry whose transfer was deleted.
async fn an_entry_whose_transfer_was_deleted_is_named(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let buyer = user(&app, Role::User, true).await;
    app.credit(&operator, &buyer, "1").await;
    let entries = app.store.chained_entries(0, 2).await.unwrap();
    let transfer = entries[0].entry.transfer_id;
    assert_eq!(
        entries[1].entry.transfer_id, transfer,
        "a credit's two entries"
    );
    let delete = format!("DELETE FROM transfers WHERE id = '{transfer}'");
    let sqlite_delete = format!("PRAGMA foreign_keys = OFF; {delete}");
    execute(&app, &delete, &sqlite_delete).await;
    assert_eq!(
        violations(&app).await,
        entries
            .iter()
            .map(|e| format!("ledger entry {}: its transfer does not exist", e.seq))
            .collect::<Vec<_>>()
    );
}

/// Nor does one tie a transfer to its accounts: verify names journal entries whose
/// account is gone (here its key was changed, so its balance also lacks entries).
async fn entries_of_an_account_that_does_not_exist_are_named(app: TestApp) {
    let operator = user(&app, Role::Operator, true).await;
    let buyer = user(&app, Role::User, true).await;
    app.credit(&operator, &buyer, "1").await;
    let stranger = uuid::Uuid::now_v7();
    let sql = format!(
        "UPDATE accounts SET owner_id = '{stranger}' WHERE owner_id = '{}'",
        buyer.id
    );
    execute(&app, &sql, &format!("PRAGMA foreign_keys = OFF; {sql}")).await;
    let violations = violations(&app).await;
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert_eq!(
        violations[0],
        format!(
            "{}/BTC/available has journal entries but no account",
            buyer.id
        )
    );
    let moved = format!("{stranger}/BTC/available has balance 1");
    assert!(
        violations[1].starts_with(&moved)
            && violations[1].ends_with("but its journal entries sum to 0"),
        "{violations:?}"
    );
}

on_both_backends!(
    config = crate::payouts::config();
    an_altered_entry_breaks_the_chain_and_verify_names_it,
    an_entry_whose_kind_was_changed_is_named,
    an_entry_whose_transfer_was_deleted_is_named,
    entries_of_an_account_that_does_not_exist_are_named,
);
