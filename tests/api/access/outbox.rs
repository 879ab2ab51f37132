//! The outbox worker's bookkeeping, driven by hand on a bare store (no server,
//! so no other worker races for the emails): failures are recorded, retried
//! later and given up; without SMTP, emails are logged and count as sent.

use chrono::Utc;
use hashmarket_api::mail::{deliver_due, MailConfig, Mailer};
use hashmarket_store::access::{AccessWrite, OutboxEmail};
use hashmarket_store::testing::TestDatabase;
use hashmarket_store::{connect, Backend, ConnectOptions};
use uuid::Uuid;

/// An outbox email already tried `attempts` times.
fn email(attempts: i32) -> OutboxEmail {
    OutboxEmail {
        id: Uuid::now_v7(),
        recipient: "someone@example.com".into(),
        subject: "s".into(),
        body_text: "t".into(),
        body_html: "<p>h</p>".into(),
        attempts,
        created_at: Utc::now(),
    }
}

async fn failures_are_recorded_retried_later_and_given_up(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let store = connect(&db.url, &ConnectOptions::default()).await.unwrap();
    // An SMTP port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let failing = Mailer::new(MailConfig {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        max_attempts: 2,
        ..MailConfig::default()
    })
    .unwrap();
    let (fresh, last_try) = (email(0), email(1));
    store
        .write_access(&[
            AccessWrite::Email(fresh.clone()),
            AccessWrite::Email(last_try.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(deliver_due(&*store, &failing).await.unwrap(), 2);
    let status = store.email_status(fresh.id).await.unwrap().unwrap();
    assert_eq!((status.status.as_str(), status.attempts), ("pending", 1));
    assert!(status.last_error.is_some());
    let status = store.email_status(last_try.id).await.unwrap().unwrap();
    assert_eq!((status.status.as_str(), status.attempts), ("failed", 2));
    // The retry is not due yet (5 s backoff): nothing is claimed now.
    assert_eq!(deliver_due(&*store, &failing).await.unwrap(), 0);

    // With no SMTP configured, emails are logged and count as sent.
    let logged = email(0);
    store
        .write_access(&[AccessWrite::Email(logged.clone())])
        .await
        .unwrap();
    let log_only = Mailer::new(MailConfig::default()).unwrap();
    assert_eq!(deliver_due(&*store, &log_only).await.unwrap(), 1);
    let status = store.email_status(logged.id).await.unwrap().unwrap();
    assert_eq!(
        (status.status.as_str(), status.attempts, status.last_error),
        ("sent".to_string().as_str(), 1, None)
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_failures_are_recorded_retried_later_and_given_up() {
    failures_are_recorded_retried_later_and_given_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_failures_are_recorded_retried_later_and_given_up() {
    failures_are_recorded_retried_later_and_given_up(Backend::Postgres).await;
}
