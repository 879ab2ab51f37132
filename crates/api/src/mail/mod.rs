//! Email: the transactional outbox and the worker that delivers it.
//!
//! Code that causes an email never sends it: it writes the rendered email to the
//! `outbox_emails` table in the same transaction as the event (a registration, a
//! new API key), so the email exists if and only if the event committed. The
//! [`spawn_outbox_worker`] task then claims due emails (leasing them, so two
//! nodes do not both send one), delivers them with lettre over SMTP and records
//! the outcome: sent, or failed and retried with exponential backoff, or given up
//! after [`MailConfig::max_attempts`]. With no SMTP server configured (the
//! embedded default) the worker writes each email to the log and marks it sent —
//! logged, never lost.

pub mod templates;

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;
use uuid::Uuid;

use hashmarket_store::access::{AccessWrite, OutboxEmail};
use hashmarket_store::Store;

use crate::state::AppState;
use templates::Rendered;

/// Emails claimed per round.
const CLAIM_BATCH: u32 = 16;
/// How long a claimed email is reserved for the worker that claimed it.
const CLAIM_LEASE_SECS: i64 = 60;
/// First retry delay; doubled per failed attempt.
const RETRY_BASE_SECS: i64 = 5;
/// Longest retry delay.
const RETRY_MAX_SECS: i64 = 3600;
/// Longest an SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server sends email.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `HASHMARKET_SMTP_URL` in lettre's URL form (`smtp://user:pass@host:port`,
    /// `smtps://...` for TLS on connect, `?tls=required` for STARTTLS); `None` logs
    /// emails instead of sending them.
    pub smtp_url: Option<String>,
    /// The From address.
    pub from: String,
    /// The public base URL put into links (`HASHMARKET_PUBLIC_URL`).
    pub public_url: String,
    /// How often the worker looks for due emails when not woken.
    pub poll_interval: Duration,
    /// Attempts before an email is given up on.
    pub max_attempts: i32,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            from: "hashmarket <no-reply@hashmarket.local>".into(),
            public_url: "http://127.0.0.1:8080".into(),
            poll_interval: Duration::from_secs(2),
            max_attempts: 8,
        }
    }
}

/// Why the mail configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    /// The SMTP URL did not parse.
    #[error("HASHMARKET_SMTP_URL: {0}")]
    SmtpUrl(#[from] lettre::transport::smtp::Error),
    /// The From address did not parse.
    #[error("the From address {0:?} is not a mailbox")]
    From(String),
}

/// Where emails go.
#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Log,
}

/// Delivers outbox emails; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    config: MailConfig,
    wake: Arc<Notify>,
}

impl Mailer {
    /// A mailer for `config` (checks the URL and the From address).
    pub fn new(config: MailConfig) -> Result<Mailer, MailConfigError> {
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => Transport::Log,
        };
        let from = config
            .from
            .parse()
            .map_err(|_| MailConfigError::From(config.from.clone()))?;
        Ok(Mailer {
            transport,
            from,
            config,
            wake: Arc::new(Notify::new()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MailConfig {
        &self.config
    }

    /// An outbox row for `rendered` to `recipient`, to commit with its event.
    pub fn outbox(&self, recipient: &str, rendered: Rendered) -> AccessWrite {
        AccessWrite::Email(OutboxEmail {
            id: Uuid::now_v7(),
            recipient: recipient.to_string(),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
            attempts: 0,
            created_at: Utc::now(),
        })
    }

    /// Tells the worker that an email was committed, so it need not wait for its
    /// next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers one email.
    async fn deliver(&self, email: &OutboxEmail) -> Result<(), String> {
        match &self.transport {
            Transport::Log => {
                tracing::info!(
                    email_id = %email.id, to = %email.recipient, subject = %email.subject,
                    body = %email.body_text,
                    "no SMTP server configured (HASHMARKET_SMTP_URL): email logged instead of sent"
                );
                Ok(())
            }
            Transport::Smtp(smtp) => {
                let to: Mailbox = email
                    .recipient
                    .parse()
                    .map_err(|e| format!("recipient {:?}: {e}", email.recipient))?;
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(&email.subject)
                    .message_id(Some(format!("<{}@hashmarket>", email.id)))
                    .multipart(MultiPart::alternative_plain_html(
                        email.body_text.clone(),
                        email.body_html.clone(),
                    ))
                    .map_err(|e| e.to_string())?;
                smtp.send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// The marketplace's emails, rendered with the catalog's units and decimals, for
/// the sequencers to write into the outbox with the batch that causes them.
pub fn marketplace_notices(
    catalog: &crate::catalog::ApiCatalog,
    terms: &[hashmarket_market::MarketTerms],
) -> hashmarket_market::Notices {
    use hashmarket_market::notices::{Message, Party};
    let catalog = catalog.clone();
    let algorithms: std::collections::BTreeMap<String, String> = terms
        .iter()
        .map(|t| (t.id.clone(), t.algorithm.clone()))
        .collect();
    let (catalog_end, algorithms_end) = (catalog.clone(), algorithms.clone());
    let render = move |c: &hashmarket_store::market::ContractRow, party: Party| {
        let algorithm = algorithms.get(&c.market).cloned().unwrap_or_default();
        let hash_rate = catalog.format_hash_rate(&algorithm, c.hash_rate_hs);
        let price = format!("{} {}", catalog.format_price(&c.market, c.price), c.asset);
        let cost = format!("{} {}", catalog.format(&c.asset, c.cost), c.asset);
        let rendered = templates::contract_started(
            &templates::ContractTerms {
                id: &c.id.to_string(),
                market: &c.market,
                hash_rate: &hash_rate,
                price: &price,
                cost: &cost,
                starts_at: c.starts_at,
                ends_at: c.ends_at,
            },
            party == Party::Buyer,
        );
        Message {
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        }
    };
    let catalog_for_end = catalog_end;
    let algorithms_for_end = algorithms_end;
    let ended = move |c: &hashmarket_store::market::ContractRow, party: Party| {
        let algorithm = algorithms_for_end
            .get(&c.market)
            .cloned()
            .unwrap_or_default();
        let hash_rate = catalog_for_end.format_hash_rate(&algorithm, c.hash_rate_hs);
        let money = |d| format!("{} {}", catalog_for_end.format(&c.asset, d), c.asset);
        let price = format!(
            "{} {}",
            catalog_for_end.format_price(&c.market, c.price),
            c.asset
        );
        let delivered = if c.cost.is_zero() {
            "n/a".to_string()
        } else {
            format!(
                "{}%",
                (c.released_to_seller / c.cost * rust_decimal::Decimal::ONE_HUNDRED).round_dp(1)
            )
        };
        let rendered = templates::contract_ended(
            &templates::ContractSummary {
                terms: templates::ContractTerms {
                    id: &c.id.to_string(),
                    market: &c.market,
                    hash_rate: &hash_rate,
                    price: &price,
                    cost: &money(c.cost),
                    starts_at: c.starts_at,
                    ends_at: c.ends_at,
                },
                paid: &money(c.released_to_seller),
                refunded: &money(c.refunded_to_buyer),
                revenue: &money(c.mining_revenue),
                delivered: &delivered,
            },
            party == Party::Buyer,
        );
        Message {
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        }
    };
    hashmarket_market::Notices {
        contract_started: Some(Arc::new(render)),
        contract_ended: Some(Arc::new(ended)),
    }
}

/// The delay before retry number `attempts` (1-based): 5 s, 10 s, 20 s, ... ≤ 1 h.
pub fn retry_delay_secs(attempts: i32) -> i64 {
    let doublings = attempts.clamp(1, 20) - 1;
    (RETRY_BASE_SECS << doublings).min(RETRY_MAX_SECS)
}

/// Runs one round: claims due emails, delivers them, records each outcome.
/// Returns how many were claimed.
pub async fn deliver_due(store: &dyn Store, mailer: &Mailer) -> Result<usize, String> {
    let now = Utc::now();
    let lease_until = now + chrono::Duration::seconds(CLAIM_LEASE_SECS);
    let emails = store
        .claim_due_emails(now, lease_until, CLAIM_BATCH)
        .await
        .map_err(|e| e.to_string())?;
    for email in &emails {
        let outcome = mailer.deliver(email).await;
        let now = Utc::now();
        let attempts = email.attempts + 1;
        let (error, retry_at) = match &outcome {
            Ok(()) => (None, None),
            Err(e) if attempts >= mailer.config.max_attempts => (Some(e.as_str()), None),
            Err(e) => (
                Some(e.as_str()),
                Some(now + chrono::Duration::seconds(retry_delay_secs(attempts))),
            ),
        };
        match &outcome {
            Ok(()) => tracing::info!(email_id = %email.id, attempts, "email sent"),
            Err(e) => tracing::warn!(email_id = %email.id, attempts, error = %e,
                gave_up = retry_at.is_none(), "email delivery failed"),
        }
        store
            .record_email_attempt(email.id, error, retry_at, now)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(emails.len())
}

/// Starts the outbox worker: a round whenever woken or every poll interval,
/// until the server's state is gone.
pub fn spawn_outbox_worker(state: Weak<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Some(live) = state.upgrade() else { return };
            let (store, mailer) = (live.store.clone(), live.mailer.clone());
            drop(live);
            match deliver_due(&*store, &mailer).await {
                // A full batch: there may be more; go again at once.
                Ok(n) if n == CLAIM_BATCH as usize => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox round failed"),
            }
            tokio::select! {
                _ = mailer.wake.notified() => {}
                _ = tokio::time::sleep(mailer.config.poll_interval) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let delays: Vec<i64> = (1..=12).map(retry_delay_secs).collect();
        assert_eq!(&delays[..5], &[5, 10, 20, 40, 80]);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*delays.last().unwrap(), RETRY_MAX_SECS);
        assert_eq!(retry_delay_secs(i32::MAX), RETRY_MAX_SECS);
    }

    #[test]
    fn bad_configuration_is_refused() {
        let bad_from = MailConfig {
            from: "not a mailbox".into(),
            ..MailConfig::default()
        };
        assert!(matches!(
            Mailer::new(bad_from),
            Err(MailConfigError::From(_))
        ));
        let bad_url = MailConfig {
            smtp_url: Some("ftp://x".into()),
            ..MailConfig::default()
        };
        assert!(matches!(
            Mailer::new(bad_url),
            Err(MailConfigError::SmtpUrl(_))
        ));
    }
}
