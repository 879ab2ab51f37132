//! The real binary, as an operator runs it: `serve` on a fresh machine, graceful
//! shutdown, refusal of a newer database, `--help` everywhere.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hashmarket_store::testing::TestDatabase;
use hashmarket_store::Backend;

const BIN: &str = env!("CARGO_BIN_EXE_hashmarket");

/// A `hashmarket serve` child process and the address it logged.
struct Server {
    child: Child,
    addr: String,
    log: std::sync::mpsc::Receiver<String>,
    /// Every line read so far.
    seen: std::cell::RefCell<Vec<String>>,
}

impl Server {
    /// Starts `hashmarket serve` in `dir` with `envs`, waiting for its "listening" line.
    fn start(dir: &Path, envs: &[(&str, &str)]) -> Server {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--workers", "1"])
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env_remove("HASHMARKET_BIND")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn hashmarket serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        let addr = loop {
            let line = log
                .recv_timeout(Duration::from_secs(30))
                .expect("the server logs where it listens within 30 s");
            seen.push(line.clone());
            if let Some(i) = line.find("listening on http://") {
                let rest = &line[i + "listening on http://".len()..];
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        Server {
            child,
            addr,
            log,
            seen: std::cell::RefCell::new(seen),
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait_exit_code(&mut self) -> Option<i32> {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("the server did not exit within 30 s");
    }

    fn logged(&self, needle: &str) -> bool {
        let mut seen = self.seen.borrow_mut();
        seen.extend(self.log.try_iter());
        seen.iter().any(|line| line.contains(needle))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a raw HTTP/1.1 request and returns the status line.
fn raw_request(addr: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.lines().next().unwrap_or_default().to_string()
}

#[test]
fn serve_with_no_configuration_creates_a_wal_sqlite_database_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    assert!(
        dir.path().join("hashmarket.db").exists(),
        "./hashmarket.db created"
    );
    assert!(
        dir.path().join("hashmarket.db-wal").exists(),
        "SQLite runs in WAL mode"
    );
    // The master key for API-key secrets is generated once, owner-only, with a warning.
    let key_file = dir.path().join("hashmarket.master.key");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("the master key file is created next to the database")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(server.logged("generated a new master key"));
    let status = raw_request(
        &server.addr,
        "GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    server.signal("TERM");
    assert_eq!(
        server.wait_exit_code(),
        Some(0),
        "graceful shutdown exits 0"
    );
    assert!(server.logged("hashmarket stopped"));
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let body = r#"{"market":"sha256-30d","hash_rate":"100 TH/s","price":"0.00000055"}"#;
    let (first, rest) = body.split_at(20);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /v1/quotes HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first.as_bytes()).unwrap();
    // The request is in flight (half its body sent) when the signal arrives.
    std::thread::sleep(Duration::from_millis(200));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 200 OK"),
        "in-flight request finished: {response}"
    );
    assert!(response.contains("\"cost\":\"0.00165000\""));
    assert_eq!(server.wait_exit_code(), Some(0));
    // And no new connections are taken after the signal.
    assert!(TcpStream::connect(&server.addr).is_err());
}

#[test]
fn ctrl_c_also_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    server.signal("INT");
    assert_eq!(server.wait_exit_code(), Some(0));
}

#[tokio::test]
async fn serve_uses_postgres_when_the_url_says_so() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[("DATABASE_URL", db.url.as_str())]);
    let status = raw_request(
        &server.addr,
        "GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        !dir.path().join("hashmarket.db").exists(),
        "no SQLite file when on PostgreSQL"
    );
    server.signal("TERM");
    assert_eq!(server.wait_exit_code(), Some(0));
}

#[test]
fn a_database_from_a_newer_binary_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hashmarket.db").display());
    let migrate = Command::new(BIN)
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        c.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99999999, 'future', TRUE, X'00', 0)",
        )
        .await
        .unwrap();
    });
    let serve = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
        .output()
        .unwrap();
    assert!(!serve.status.success());
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert!(
        stderr.contains("newer than this binary"),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("99999999"), "stderr: {stderr}");
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["version", "--help"],
        vec!["sign", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    for env in [
        "DATABASE_URL",
        "HASHMARKET_BIND",
        "HASHMARKET_BODY_LIMIT_BYTES",
    ] {
        assert!(help.contains(env), "serve --help names {env}");
    }
}

#[test]
fn sign_prints_the_headers_of_the_published_test_vector() {
    let out = Command::new(BIN)
        .args([
            "sign",
            "--key",
            "hmk_test",
            "--secret",
            "6f1c3a5e9b7d2f4a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a",
            "--method",
            "POST",
            "--path",
            "/v1/orders?market=sha256-30d",
            "--body",
            r#"{"market":"sha256-30d","side":"buy","hash_rate":"10 TH/s","price":"0.00000150","time_in_force":"gtc"}"#,
            "--timestamp",
            "1700000000000",
            "--nonce",
            "n-0001",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("HM-Key: hmk_test"));
    assert!(stdout.contains("HM-Timestamp: 1700000000000"));
    assert!(stdout.contains("HM-Nonce: n-0001"));
    assert!(stdout.contains(
        "HM-Signature: 877e1ec0a0cb0e2d7ce63469df6d35f36eaeb8e2ea69c0b3bce32126d69dd4ee"
    ));
    // The string-to-sign goes to stderr, for comparing with a client's.
    assert!(String::from_utf8_lossy(&out.stderr).contains("1700000000000\nn-0001\nPOST\n"));
    let bad = Command::new(BIN)
        .args([
            "sign", "--key", "k", "--secret", "s", "--path", "/", "--nonce", "a b",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn version_names_the_shipped_schemas() {
    let out = Command::new(BIN).arg("version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(env!("CARGO_PKG_VERSION")));
    assert!(text.contains("schema postgres"));
    assert!(text.contains("schema sqlite"));
}

#[test]
fn an_unsupported_database_url_is_a_clear_error() {
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn verify_passes_a_sound_ledger_and_names_a_tampered_balance() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hashmarket.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let user = uuid::Uuid::now_v7();
    runtime.block_on(async {
        let store = hashmarket_store::connect(&url, &Default::default())
            .await
            .unwrap();
        let completion = hashmarket_store::market::IdempotencyCompletion {
            principal: "op".into(),
            key: "k".into(),
            status: 201,
            body: "{}".into(),
        };
        store
            .claim_idempotency_key("op", "k", "f", chrono::Utc::now(), chrono::Utc::now())
            .await
            .unwrap();
        let credit = hashmarket_market::money::Credit {
            transfer_id: uuid::Uuid::now_v7(),
            user_id: user,
            asset: "BTC".into(),
            amount: "1.5".parse().unwrap(),
            reference: "wire".into(),
            at: chrono::Utc::now(),
        };
        hashmarket_market::money::credit(&*store, credit, completion)
            .await
            .unwrap();
        store.close().await;
    });
    let verify = || {
        Command::new(BIN)
            .args(["verify", "--database-url", &url])
            .output()
            .unwrap()
    };
    let sound = verify();
    assert!(
        sound.status.success(),
        "{}",
        String::from_utf8_lossy(&sound.stdout)
    );
    runtime.block_on(async {
        use sqlx::{Connection, Executor};
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        c.execute(
            format!("UPDATE accounts SET balance = '2.5' WHERE owner_id = '{user}'").as_str(),
        )
        .await
        .unwrap();
    });
    let tampered = verify();
    assert!(!tampered.status.success());
    let report = String::from_utf8_lossy(&tampered.stdout);
    assert!(
        report.contains(&format!("{user}/BTC/available has balance 2.5")),
        "{report}"
    );
    assert!(report.contains("BTC: balances sum to 1"), "{report}");
}

#[test]
fn a_catalog_file_sets_what_is_traded() {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = hashmarket_contracts::Catalog::default();
    catalog.markets.retain(|id, _| id == "scrypt-7d");
    let path = dir.path().join("catalog.json");
    std::fs::write(&path, serde_json::to_string(&catalog).unwrap()).unwrap();
    let path = path.display().to_string();
    let server = Server::start(dir.path(), &[("HASHMARKET_CATALOG", path.as_str())]);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .write_all(b"GET /v1/markets HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.contains("\"id\":\"scrypt-7d\""), "{response}");
    assert!(
        !response.contains("sha256-30d"),
        "only the configured market"
    );
    std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
    let bad = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--catalog", "bad.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("parsing the catalog"));
}
