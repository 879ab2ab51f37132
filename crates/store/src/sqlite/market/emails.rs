//! SQLite: queuing users' emails in the outbox, in a unit of work.

use sqlx::SqliteConnection;

use crate::market::UserEmail;
use crate::sqlite::codec::time_text;
use crate::StoreError;

pub(super) async fn insert_user_emails(
    tx: &mut SqliteConnection,
    emails: &[UserEmail],
) -> Result<(), StoreError> {
    for e in emails {
        sqlx::query(
            "INSERT INTO outbox_emails (id, recipient, subject, body_text, body_html, status, \
             attempts, next_attempt_at, created_at) \
             SELECT ?1, email, ?2, ?3, ?4, 'pending', 0, ?5, ?5 FROM users WHERE id = ?6",
        )
        .bind(e.id.to_string())
        .bind(&e.subject)
        .bind(&e.body_text)
        .bind(&e.body_html)
        .bind(time_text(&e.created_at))
        .bind(e.user_id.to_string())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
