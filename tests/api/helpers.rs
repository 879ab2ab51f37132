//! Test harness: a real server on port 0 over a fresh database, and a client for it.
#![allow(dead_code)] // shared by every test module; not each uses every helper

use std::net::SocketAddr;
use std::sync::Arc;

use hashmarket_api::crypto::MasterKeySource;
use hashmarket_api::mail::MailConfig;
use hashmarket_api::ratelimit::{Rate, RateLimitConfig};
use hashmarket_api::{Application, ServerConfig};
use hashmarket_store::testing::TestDatabase;
use hashmarket_store::{connect, Backend, ConnectOptions, Store};

/// One running server and the database behind it.
pub struct TestApp {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The store the server uses (for assertions that look behind the API).
    pub store: Arc<dyn Store>,
    /// The database (kept alive as long as the app).
    pub db: TestDatabase,
    /// An HTTP client.
    pub client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    /// Runs one statement on the database behind the server's back (to break
    /// an invariant on purpose).
    pub async fn tamper(&self, sql: &str) {
        use sqlx::{Connection, Executor};
        match self.db.backend {
            hashmarket_store::Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.db.url).await.unwrap();
                c.execute(sql).await.unwrap();
            }
            hashmarket_store::Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.db.url).await.unwrap();
                c.execute(sql).await.unwrap();
            }
        }
    }

    /// `http://addr` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// POST `path` with a JSON body.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Stops the server gracefully.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    /// Stops this server and starts a new one on the same database, as after a
    /// restart: books are rebuilt from what was committed.
    pub async fn restart(self) -> TestApp {
        self.stop().await;
        self.store.close().await;
        let app = start(self.db, test_config()).await;
        app.wait_until_markets_run().await;
        app
    }

    /// Waits (up to 10 s) until this server runs the sha256-30d book: the previous
    /// server's sequencers let go of their leases as they wind down.
    pub async fn wait_until_markets_run(&self) {
        let mut last = String::new();
        for _ in 0..100 {
            let response = self.get("/v1/markets/sha256-30d/book").await;
            if response.status().is_success() {
                return;
            }
            last = format!(
                "{} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the restarted server never took over its markets; last answer: {last}");
    }
}

/// The server configuration tests use: port 0, two workers, no signal handling,
/// a fixed master key, emails logged (mail tests use the SMTP sink, see
/// [`smtp_config`]), and rate limits high enough that only the rate-limit tests
/// meet them (every test client is 127.0.0.1).
pub fn test_config() -> ServerConfig {
    let generous = Rate {
        per_minute: 600_000,
        burst: 10_000,
    };
    ServerConfig {
        bind: "127.0.0.1:0".to_string(),
        workers: 2,
        handle_signals: false,
        master_key: MasterKeySource::Key([0x42; 32]),
        rate_limits: RateLimitConfig {
            per_principal: generous,
            per_ip: generous,
            login_per_account: generous,
            login_per_ip: generous,
        },
        mail: MailConfig {
            poll_interval: std::time::Duration::from_millis(200),
            ..MailConfig::default()
        },
        // Tests run accrual themselves (POST /v1/admin/accrue), deterministically.
        accrual_interval: None,
        ..ServerConfig::default()
    }
}

/// Mail settings that deliver to the SMTP sink the test command starts
/// (`HASHMARKET_TEST_SMTP_URL`); fails loudly without one.
pub fn smtp_config() -> MailConfig {
    let url = std::env::var("HASHMARKET_TEST_SMTP_URL").expect(
        "HASHMARKET_TEST_SMTP_URL is not set: run the tests with ./scripts/test, which \
         starts an SMTP sink (or start one with ./scripts/dev-services)",
    );
    MailConfig {
        smtp_url: Some(url),
        poll_interval: std::time::Duration::from_millis(200),
        ..MailConfig::default()
    }
}

/// The test server ([`test_config`]) sending its email to the SMTP sink.
pub fn smtp_server_config() -> ServerConfig {
    ServerConfig {
        mail: smtp_config(),
        ..test_config()
    }
}

/// The directory the SMTP sink writes received messages into (one `.eml` each).
pub fn smtp_maildir() -> std::path::PathBuf {
    std::env::var("HASHMARKET_TEST_MAILDIR")
        .expect("HASHMARKET_TEST_MAILDIR is not set: run the tests with ./scripts/test")
        .into()
}

/// Waits (up to 10 s) for a message to `recipient` in the sink; returns it raw.
pub async fn wait_for_mail(recipient: &str, subject_part: &str) -> String {
    let dir = smtp_maildir();
    for _ in 0..100 {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if text.contains(recipient) && text.contains(subject_part) {
                    return text;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no email to {recipient} about {subject_part:?} arrived in {}",
        dir.display()
    );
}

/// The 64-hex-digit token on a line of its own in an email's text part (email
/// verification, withdrawal confirmation).
pub fn token_in(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("a token line in the email")
        .to_string()
}

/// The TOTP code an authenticator app shows at Unix time `at` for the base32
/// `secret_base32` (SHA-1, 6 digits, 30 s steps: what the server enrols).
pub fn totp_code(secret_base32: &str, at: u64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, "x".into())
        .unwrap()
        .generate(at)
}

/// Starts a server on a fresh database of the given backend.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, test_config()).await
}

/// Starts a server with a custom configuration on a fresh database.
pub async fn spawn_app_with(backend: Backend, config: ServerConfig) -> TestApp {
    start(TestDatabase::new(backend).await, config).await
}

/// A second server on `app`'s database (another node of the same deployment).
pub async fn spawn_on_same_database(app: &TestApp) -> TestApp {
    let store = connect(&app.db.url, &ConnectOptions::default())
        .await
        .expect("connect again");
    let server = Application::build(test_config(), store.clone())
        .await
        .expect("start a second server");
    let (addr, handle) = (server.local_addr(), server.handle());
    tokio::spawn(server.run_until_stopped());
    TestApp {
        addr,
        store,
        db: TestDatabase::alias(&app.db),
        client: reqwest::Client::new(),
        handle,
    }
}

/// Starts a server on an existing database.
async fn start(db: TestDatabase, config: ServerConfig) -> TestApp {
    let store = connect(&db.url, &ConnectOptions::default())
        .await
        .expect("open a fresh test database");
    let app = Application::build(config, store.clone())
        .await
        .expect("start the server on port 0");
    let addr = app.local_addr();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        store,
        db,
        client: reqwest::Client::new(),
        handle,
    }
}

/// Asserts a response is problem+json with the status and slug given; returns the body.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    slug: &str,
) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("a JSON problem body");
    assert_eq!(
        body["type"],
        format!("https://hashmarket.dev/problems/{slug}"),
        "problem type in {body}"
    );
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string());
    body
}

/// Declares one `#[tokio::test]` per backend for each `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! on_both_backends {
    (config = $config:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::helpers::spawn_app_with(hashmarket_store::Backend::Sqlite, $config).await;
                super::$name(app).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::helpers::spawn_app_with(hashmarket_store::Backend::Postgres, $config).await;
                super::$name(app).await;
            })*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::helpers::spawn_app(hashmarket_store::Backend::Sqlite).await;
                super::$name(app).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::helpers::spawn_app(hashmarket_store::Backend::Postgres).await;
                super::$name(app).await;
            })*
        }
    };
}
