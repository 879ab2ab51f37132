//! The export's own NUMERIC decoder against sqlx's, on values a real PostgreSQL
//! server encodes: every one must decode to the same Decimal, and print as
//! PostgreSQL prints it (same scale).
//! PostgreSQL only (SQLite stores amounts as text); fails loudly without a server.

use rust_decimal::Decimal;
use sqlx::{Connection, PgConnection, Row};

use hashmarket_store::postgres::numeric;
use hashmarket_store::testing::TestDatabase;
use hashmarket_store::Backend;

#[tokio::test]
async fn decodes_what_sqlx_decodes() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let mut conn = PgConnection::connect(&db.url).await.expect("connect");
    // Amounts of every magnitude and scale a ledger holds, both signs, zeros,
    // trailing zeros, and digit groups that straddle the point.
    let rows = sqlx::query(
        "SELECT v, v::text FROM (VALUES (0::numeric), (0.00000000), (1), (-1), (0.5), \
         (0.00000001), (-0.00012345), (10000), (10000.0001), (123.45678901), \
         (21000000.00000001), (99999999999999.99999999), (-5.10), (1e-28), \
         (79228162514264337593543950335) \
         UNION ALL SELECT round((g * 7919 % 100003) / 1e8 * (CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END) \
         * power(10::numeric, g % 17), (g % 9)::int) FROM generate_series(1, 5000) g) t(v)",
    )
    .fetch_all(&mut conn)
    .await
    .expect("select numerics");
    assert!(rows.len() > 5000);
    for row in &rows {
        let expected: Decimal = row.get(0);
        let raw = row.try_get_raw(0).expect("raw value");
        let bytes = raw.as_bytes().expect("binary value");
        let ours = numeric::decode(bytes).expect("decodes");
        let typed: numeric::Amount = row.get(0);
        assert_eq!(typed.0.to_string(), ours.to_string(), "as a column type");
        assert_eq!(ours, expected, "value {expected}");
        // sqlx drops the scale of a zero; PostgreSQL's own text is the reference.
        let text: String = row.get(1);
        assert_eq!(ours.to_string(), text, "scale of {expected}");
    }
}
