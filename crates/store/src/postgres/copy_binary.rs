//! Reading `COPY (SELECT …) TO STDOUT (FORMAT binary)`: the fastest way to take
//! many rows out of PostgreSQL.
//!
//! A query's rows arrive through sqlx as one `PgRow` each (its own buffer, column
//! metadata, a type check and a decoder call per value); for an export of millions
//! of rows that machinery costs more than the values. Binary COPY sends the same
//! values, in the same binary encodings, as a plain byte stream:
//!
//! - a header: the 11-byte signature `PGCOPY\n\xff\r\n\0`, 32-bit flags, and a
//!   32-bit length of a header extension (skipped);
//! - per row: a 16-bit field count, then per field a 32-bit length (−1 for NULL)
//!   and that many bytes;
//! - a trailer: the field count −1.
//!
//! All integers are big-endian. The bytes come in chunks (in practice one row per
//! chunk, but nothing relies on that); a row split across chunks waits for the
//! rest. [`tuples`] turns the chunks into decoded rows; [`Fields`] reads one row's
//! values in column order, checking each length against its type.
//!
//! COPY takes no bind parameters, so a filter goes into the statement as literals
//! — [`text_literal`] quotes a string so that no value can end it early.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, Stream};
use futures_util::StreamExt;
use rust_decimal::Decimal;
use sqlx::postgres::{PgConnection, PgPool};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::numeric;
use crate::finance::Interner;
use crate::StoreError;

/// The binary COPY signature every stream starts with.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z).
const PG_EPOCH_UNIX_US: i64 = 946_684_800_000_000;

/// A bound on one row's size: more than any row of ours, far less than memory.
const MAX_TUPLE_BYTES: usize = 16 * 1024 * 1024;

fn corrupt(column: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: detail.into(),
    }
}

fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn be_i32(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Quotes `value` as a PostgreSQL string literal (`E'…'`, with `\` and `'`
/// doubled): read back it is exactly `value`, whatever the server's
/// `standard_conforming_strings`. `None` if `value` holds a NUL, which no
/// PostgreSQL string can (so a filter on it matches nothing).
pub(crate) fn text_literal(value: &str) -> Option<String> {
    if value.contains('\0') {
        return None;
    }
    let mut quoted = String::with_capacity(value.len() + 3);
    quoted.push_str("E'");
    for c in value.chars() {
        match c {
            '\'' => quoted.push_str("''"),
            '\\' => quoted.push_str("\\\\"),
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    Some(quoted)
}

/// One row's values, read left to right. Each reader takes the next field and
/// names its column in any error.
pub(crate) struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    /// The next field's bytes, `None` for NULL.
    fn next(&mut self, column: &'static str) -> Result<Option<&'a [u8]>, StoreError> {
        let len = be_i32(self.bytes, self.at).ok_or_else(|| corrupt(column, "row ends early"))?;
        self.at += 4;
        if len < 0 {
            return Ok(None);
        }
        let end = self.at + len as usize;
        let value = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| corrupt(column, "value runs past its row"))?;
        self.at = end;
        Ok(Some(value))
    }

    fn required(&mut self, column: &'static str) -> Result<&'a [u8], StoreError> {
        self.next(column)?
            .ok_or_else(|| corrupt(column, "NULL where a value is required"))
    }

    fn fixed<const N: usize>(column: &'static str, value: &[u8]) -> Result<[u8; N], StoreError> {
        value
            .try_into()
            .map_err(|_| corrupt(column, format!("{} bytes, expected {N}", value.len())))
    }

    /// An `int8`.
    pub(crate) fn i64(&mut self, column: &'static str) -> Result<i64, StoreError> {
        let value = self.required(column)?;
        Ok(i64::from_be_bytes(Self::fixed(column, value)?))
    }

    /// A `timestamptz` (microseconds since 2000-01-01 UTC).
    pub(crate) fn time(&mut self, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
        let value = self.required(column)?;
        let pg_us = i64::from_be_bytes(Self::fixed(column, value)?);
        pg_us
            .checked_add(PG_EPOCH_UNIX_US)
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(|| corrupt(column, "time out of range (±infinity?)"))
    }

    /// A `uuid`.
    pub(crate) fn uuid(&mut self, column: &'static str) -> Result<Uuid, StoreError> {
        let value = self.required(column)?;
        Ok(Uuid::from_bytes(Self::fixed(column, value)?))
    }

    /// A nullable `uuid`.
    pub(crate) fn opt_uuid(&mut self, column: &'static str) -> Result<Option<Uuid>, StoreError> {
        self.next(column)?
            .map(|value| Ok(Uuid::from_bytes(Self::fixed(column, value)?)))
            .transpose()
    }

    /// A `text` from a small set of names (assets, purposes, kinds), shared
    /// through `names`.
    pub(crate) fn name(
        &mut self,
        column: &'static str,
        names: &mut Interner,
    ) -> Result<Arc<str>, StoreError> {
        let value = self.required(column)?;
        names
            .get_utf8(value)
            .map_err(|err| corrupt(column, err.to_string()))
    }

    /// A `text`, as an owned string.
    pub(crate) fn string(&mut self, column: &'static str) -> Result<String, StoreError> {
        let value = self.required(column)?;
        String::from_utf8(value.to_vec()).map_err(|err| corrupt(column, err.to_string()))
    }

    /// A `bool`.
    pub(crate) fn bool(&mut self, column: &'static str) -> Result<bool, StoreError> {
        match self.required(column)? {
            [0] => Ok(false),
            [1] => Ok(true),
            other => Err(corrupt(column, format!("{other:?} is not a boolean"))),
        }
    }

    /// A nullable `text`.
    pub(crate) fn opt_text(&mut self, column: &'static str) -> Result<Option<&'a str>, StoreError> {
        self.next(column)?
            .map(|value| std::str::from_utf8(value).map_err(|err| corrupt(column, err.to_string())))
            .transpose()
    }

    /// A `numeric`, through [`numeric::decode`].
    pub(crate) fn amount(&mut self, column: &'static str) -> Result<Decimal, StoreError> {
        numeric::decode(self.required(column)?).map_err(|detail| corrupt(column, detail))
    }
}

/// Where a stream is in the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Rows,
    Ended,
}

/// How long the header at the start of `bytes` is, once all of it is there.
fn header_len(bytes: &[u8]) -> Result<Option<usize>, StoreError> {
    let head = &bytes[..bytes.len().min(SIGNATURE.len())];
    if head != &SIGNATURE[..head.len()] {
        return Err(corrupt("COPY", "not a binary COPY stream"));
    }
    let Some(extension) = be_i32(bytes, SIGNATURE.len() + 4) else {
        return Ok(None);
    };
    let extension = usize::try_from(extension)
        .map_err(|_| corrupt("COPY", "negative header extension length"))?;
    let len = SIGNATURE.len() + 8 + extension;
    Ok((bytes.len() >= len).then_some(len))
}

/// What starts at the front of the rows' bytes.
enum Next {
    /// A whole row of this many bytes (field count included).
    Row(usize),
    /// The trailer.
    Trailer,
    /// Not all of it has arrived yet.
    Incomplete,
}

/// What the row (or trailer) at the start of `bytes` is; checks its field count.
fn next_tuple(bytes: &[u8], columns: u16) -> Result<Next, StoreError> {
    let Some(count) = be_u16(bytes, 0) else {
        return Ok(Next::Incomplete);
    };
    if count == u16::MAX {
        return Ok(Next::Trailer);
    }
    if count != columns {
        return Err(corrupt(
            "COPY",
            format!("a row of {count} fields, expected {columns}"),
        ));
    }
    let mut at = 2;
    for _ in 0..count {
        let Some(len) = be_i32(bytes, at) else {
            return Ok(Next::Incomplete);
        };
        at += 4 + usize::try_from(len).unwrap_or(0);
        if at > MAX_TUPLE_BYTES {
            return Err(corrupt("COPY", "a row larger than any this reader expects"));
        }
    }
    Ok(if bytes.len() >= at {
        Next::Row(at)
    } else {
        Next::Incomplete
    })
}

/// The bytes being read: the chunk as it came, or — when a row was split across
/// chunks — the unread rest of the previous ones with the new chunk appended.
enum Buffer<C> {
    Chunk(C),
    Joined(Vec<u8>),
}

impl<C: AsRef<[u8]>> Buffer<C> {
    fn bytes(&self) -> &[u8] {
        match self {
            Buffer::Chunk(chunk) => chunk.as_ref(),
            Buffer::Joined(joined) => joined,
        }
    }
}

/// The rows of a binary COPY stream (see [`tuples`]): a hand-written stream, so
/// that each row is decoded straight from the chunk and handed out, with no
/// per-row queue or future.
pub(crate) struct Tuples<C, D> {
    chunks: BoxStream<'static, Result<C, sqlx::Error>>,
    buffer: Buffer<C>,
    /// Where the unread bytes of `buffer` start.
    at: usize,
    stage: Stage,
    columns: u16,
    decode: D,
    /// After the end or an error nothing more is read.
    done: bool,
}

impl<C, D, T> Tuples<C, D>
where
    C: AsRef<[u8]>,
    D: FnMut(&mut Fields<'_>) -> Result<T, StoreError>,
{
    /// The next row if all of it is in the buffer (header and trailer are read
    /// on the way); `Ok(None)` when more bytes are needed.
    fn next_in_buffer(&mut self) -> Result<Option<T>, StoreError> {
        loop {
            let rest = &self.buffer.bytes()[self.at..];
            match self.stage {
                Stage::Header => match header_len(rest)? {
                    Some(len) => {
                        self.at += len;
                        self.stage = Stage::Rows;
                    }
                    None => return Ok(None),
                },
                Stage::Rows => match next_tuple(rest, self.columns)? {
                    Next::Row(len) => {
                        let mut fields = Fields {
                            bytes: &rest[2..len],
                            at: 0,
                        };
                        let row = (self.decode)(&mut fields)?;
                        if fields.at != len - 2 {
                            return Err(corrupt("COPY", "row has bytes past its last field"));
                        }
                        self.at += len;
                        return Ok(Some(row));
                    }
                    Next::Trailer => {
                        self.at += 2;
                        self.stage = Stage::Ended;
                    }
                    Next::Incomplete => return Ok(None),
                },
                Stage::Ended if rest.is_empty() => return Ok(None),
                Stage::Ended => return Err(corrupt("COPY", "data after the trailer")),
            }
        }
    }

    /// Takes the next chunk: it becomes the buffer, or is appended to what is
    /// left unread.
    fn append(&mut self, chunk: C) {
        let unread = &self.buffer.bytes()[self.at..];
        self.buffer = if unread.is_empty() {
            Buffer::Chunk(chunk)
        } else {
            let mut joined = Vec::with_capacity(unread.len() + chunk.as_ref().len());
            joined.extend_from_slice(unread);
            joined.extend_from_slice(chunk.as_ref());
            Buffer::Joined(joined)
        };
        self.at = 0;
    }

    /// Whether the stream ended where it may: right after the trailer.
    fn ended_whole(&self) -> bool {
        self.stage == Stage::Ended && self.at == self.buffer.bytes().len()
    }
}

impl<C, D, T> Stream for Tuples<C, D>
where
    C: AsRef<[u8]> + Unpin,
    D: FnMut(&mut Fields<'_>) -> Result<T, StoreError> + Unpin,
{
    type Item = Result<T, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        while !this.done {
            match this.next_in_buffer() {
                Ok(Some(row)) => return Poll::Ready(Some(Ok(row))),
                Ok(None) => {}
                Err(err) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err)));
                }
            }
            match ready!(this.chunks.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => this.append(chunk),
                Some(Err(err)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err.into())));
                }
                None => {
                    this.done = true;
                    if !this.ended_whole() {
                        return Poll::Ready(Some(Err(corrupt(
                            "COPY",
                            "stream ended before its trailer",
                        ))));
                    }
                }
            }
        }
        Poll::Ready(None)
    }
}

/// Runs `COPY (SELECT {columns} {rest}) TO STDOUT (FORMAT binary)` on a
/// connection of `pool` and streams its rows, each decoded by `decode`.
/// `columns` is the select list, one column or comma-free expression per item: the
/// rows' field count is taken from it, so the two cannot disagree (and a row of
/// another width is an error, never a misread). The connection is held until the
/// stream ends or is dropped; dropping it early (a client gave up on an export)
/// cancels the COPY on the server (see [`CancelOnDrop`]) instead of letting the
/// connection read the rest to get back to a usable state.
pub(crate) fn copy_out<T, D>(
    pool: &PgPool,
    columns: &str,
    rest: &str,
    decode: D,
) -> BoxStream<'static, Result<T, StoreError>>
where
    T: Send + 'static,
    D: FnMut(&mut Fields<'_>) -> Result<T, StoreError> + Send + Unpin + 'static,
{
    let guard = CancelOnDrop::new(pool);
    let statement = format!(
        "/* {} */ COPY (SELECT {columns} {rest}) TO STDOUT (FORMAT binary)",
        guard.marker
    );
    let columns =
        u16::try_from(columns.split(',').count()).expect("a select list of < 65536 items");
    let rows = tuples(chunks_of(pool.clone(), statement), columns, decode);
    // Polled only once every row has been read (or the stream has failed).
    let ended = futures_util::stream::once(async move { guard.disarm() })
        .filter_map(|()| std::future::ready(None::<Result<T, StoreError>>));
    rows.chain(ended).boxed()
}

/// How many chunks may wait between the connection and the decoder.
const CHUNKS_IN_FLIGHT: usize = 8;

/// The raw chunks of `statement`, a `COPY … TO STDOUT`, read by a task that owns
/// the connection.
///
/// The task is there so that the connection is ours to close. sqlx hands a
/// connection back to the pool in whatever state its COPY left it: after a COPY
/// that failed as it started, or that was not read to its end, the next query on
/// it reads the rest of the old one and fails ("expected ParseComplete, got
/// ReadyForQuery"). So only a COPY read whole to its end gives its connection back;
/// any other ending — an error, a decoder that failed, a reader that went away —
/// closes it, and the pool opens a fresh one when it needs to.
fn chunks_of(pool: PgPool, statement: String) -> BoxStream<'static, Result<Bytes, sqlx::Error>> {
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let mut connection = match pool.acquire().await {
            Ok(connection) => connection,
            Err(err) => {
                let _ = sender.send(Err(err)).await;
                return;
            }
        };
        if !pump(&mut connection, &statement, &sender).await {
            connection.close_on_drop();
        }
    });
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((chunk, receiver))
    })
    .boxed()
}

/// Sends the chunks of `statement` run on `connection` until the COPY ends or the
/// reader goes away; whether the COPY was read whole, to its end.
async fn pump(
    connection: &mut PgConnection,
    statement: &str,
    sender: &mpsc::Sender<Result<Bytes, sqlx::Error>>,
) -> bool {
    let mut chunks = match connection.copy_out_raw(statement).await {
        Ok(chunks) => chunks,
        Err(err) => {
            let _ = sender.send(Err(err)).await;
            return false;
        }
    };
    loop {
        let chunk = tokio::select! {
            () = sender.closed() => return false,
            chunk = chunks.next() => chunk,
        };
        match chunk {
            None => return true,
            Some(chunk) => {
                let failed = chunk.is_err();
                if sender.send(chunk).await.is_err() || failed {
                    return false;
                }
            }
        }
    }
}

/// Cancels, when dropped armed, the running statement whose text holds `marker`:
/// a COPY abandoned part way would otherwise go on — the pool, taking its
/// connection back, reads and discards every remaining row (minutes of a
/// 10,000,000-row export) before the connection is usable again.
struct CancelOnDrop {
    pool: PgPool,
    /// A unique comment in the statement, so that its backend can be found.
    marker: String,
    armed: bool,
}

impl CancelOnDrop {
    fn new(pool: &PgPool) -> CancelOnDrop {
        CancelOnDrop {
            pool: pool.clone(),
            marker: format!("hashmarket-copy-{}", Uuid::now_v7()),
            armed: true,
        }
    }

    /// The COPY ended on its own: nothing to cancel.
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime left (shutting down): the connection closes with it
        };
        if !self.armed {
            return;
        }
        let (pool, pattern) = (self.pool.clone(), format!("%{}%", self.marker));
        runtime.spawn(async move {
            let cancelled = sqlx::query_scalar::<_, bool>(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity \
                 WHERE pid <> pg_backend_pid() AND query LIKE $1",
            )
            .bind(&pattern)
            .fetch_all(&pool)
            .await;
            if let Err(err) = cancelled {
                tracing::warn!(error = %err, "could not cancel an abandoned COPY");
            }
        });
    }
}

/// The rows of a binary COPY stream of `columns` columns, each decoded by
/// `decode`, in order. The stream must end with the trailer; anything malformed is
/// an error (and the end of the stream).
pub(crate) fn tuples<C, D, T>(
    chunks: BoxStream<'static, Result<C, sqlx::Error>>,
    columns: u16,
    decode: D,
) -> Tuples<C, D>
where
    C: AsRef<[u8]> + Default + Unpin,
    D: FnMut(&mut Fields<'_>) -> Result<T, StoreError> + Unpin,
{
    Tuples {
        chunks,
        buffer: Buffer::Chunk(C::default()),
        at: 0,
        stage: Stage::Header,
        columns,
        decode,
        done: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY stream of rows of (int8, nullable text).
    fn stream_of(rows: &[(i64, Option<&str>)]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes()); // flags
        out.extend_from_slice(&0i32.to_be_bytes()); // no extension
        for (n, text) in rows {
            out.extend_from_slice(&2u16.to_be_bytes());
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&n.to_be_bytes());
            match text {
                Some(t) => {
                    out.extend_from_slice(&(t.len() as i32).to_be_bytes());
                    out.extend_from_slice(t.as_bytes());
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    fn decode(f: &mut Fields<'_>) -> Result<(i64, Option<String>), StoreError> {
        Ok((f.i64("n")?, f.opt_text("t")?.map(str::to_owned)))
    }

    async fn read(
        bytes: Vec<u8>,
        chunk_len: usize,
    ) -> Result<Vec<(i64, Option<String>)>, StoreError> {
        let chunks: Vec<Result<Vec<u8>, sqlx::Error>> =
            bytes.chunks(chunk_len).map(|c| Ok(c.to_vec())).collect();
        let rows = tuples(futures_util::stream::iter(chunks).boxed(), 2, decode);
        rows.collect::<Vec<_>>().await.into_iter().collect()
    }

    #[tokio::test]
    async fn rows_come_out_whole_however_the_bytes_are_chunked() {
        let rows = [
            (1, Some("a")),
            (-7, None),
            (i64::MAX, Some("wire 9, \"B\"")),
        ];
        let expected: Vec<(i64, Option<String>)> = rows
            .iter()
            .map(|(n, t)| (*n, t.map(str::to_owned)))
            .collect();
        let bytes = stream_of(&rows);
        for chunk_len in [1, 2, 3, 7, 19, 20, bytes.len()] {
            assert_eq!(
                read(bytes.clone(), chunk_len).await.unwrap(),
                expected,
                "chunks of {chunk_len}"
            );
        }
        assert!(read(stream_of(&[]), 5).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn malformed_streams_are_errors_not_rows() {
        let good = stream_of(&[(1, Some("a"))]);
        // Cut short: no trailer.
        assert!(read(good[..good.len() - 2].to_vec(), 4).await.is_err());
        // Cut inside a row.
        assert!(read(good[..good.len() - 4].to_vec(), 64).await.is_err());
        // Not COPY at all.
        assert!(read(b"hello world, not a copy stream".to_vec(), 64)
            .await
            .is_err());
        // Bytes after the trailer.
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(read(trailing, 64).await.is_err());
        // A row with the wrong number of fields.
        let mut wrong = good.clone();
        wrong[19..21].copy_from_slice(&3u16.to_be_bytes());
        assert!(read(wrong, 64).await.is_err());
        // NULL where a value is required.
        let mut null = good;
        null[21..25].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(read(null, 64).await.is_err());
    }

    /// A pool of at most `max_connections` on a fresh PostgreSQL database, which
    /// lives as long as the returned guard. Fails loudly without a server.
    async fn fresh_pool(max_connections: u32) -> (crate::testing::TestDatabase, PgPool) {
        let db = crate::testing::TestDatabase::new(crate::Backend::Postgres).await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(&db.url)
            .await
            .expect("connect");
        (db, pool)
    }

    /// A COPY whose reader goes away is stopped on the server at once. Without the
    /// cancel this one would run for ~1,000 s: the pool, taking the connection
    /// back, would read every remaining row first. PostgreSQL only; fails loudly
    /// without a server.
    #[tokio::test]
    async fn an_abandoned_copy_is_cancelled_not_drained() {
        let (_db, pool) = fresh_pool(2).await;
        // 100,000 rows, each 10 ms apart.
        let columns = "g::int8, pg_sleep(0.01)::text";
        let slow = "FROM generate_series(1, 100000) g";
        let mut rows = copy_out(&pool, columns, slow, |f| {
            let n = f.i64("g")?;
            f.next("pg_sleep")?;
            Ok(n)
        });
        assert_eq!(rows.next().await.unwrap().unwrap(), 1);
        assert_eq!(rows.next().await.unwrap().unwrap(), 2);
        drop(rows);
        let running = || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                 AND state = 'active' AND query LIKE '%generate_series(1, 100000)%'",
            )
            .fetch_one(&pool)
            .await
            .expect("pg_stat_activity")
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while running().await > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the abandoned COPY is still running after 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // Both connections serve again.
        let (a, b) = tokio::join!(
            sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&pool),
            sqlx::query_scalar::<_, i32>("SELECT 2").fetch_one(&pool)
        );
        assert_eq!((a.unwrap(), b.unwrap()), (1, 2));
    }

    /// A COPY that fails — as it starts (a column that does not exist) or part way
    /// (a row its decoder rejects) — leaves the pool serving queries. The pool has
    /// one connection, so each query after a failure gets the connection the COPY
    /// had, or a fresh one in its place. PostgreSQL only; fails loudly without a
    /// server.
    #[tokio::test]
    async fn a_copy_that_fails_leaves_its_pool_usable() {
        let (_db, pool) = fresh_pool(1).await;
        let serves = || async {
            sqlx::query_scalar::<_, i32>("SELECT 7")
                .fetch_one(&pool)
                .await
                .expect("a query after the COPY")
        };
        let count = |f: &mut Fields<'_>| f.i64("g");
        let rows = "FROM generate_series(1, 10000) g";

        let failed_at_start = copy_out(&pool, "no_such_column::int8", rows, count);
        let read: Vec<_> = failed_at_start.collect().await;
        assert!(matches!(read.as_slice(), [Err(_)]), "{read:?}");
        assert_eq!(serves().await, 7);

        let fail_at_third = |f: &mut Fields<'_>| match f.i64("g")? {
            3 => Err(corrupt("g", "the decoder rejects row 3")),
            n => Ok(n),
        };
        let read: Vec<_> = copy_out(&pool, "g::int8", rows, fail_at_third)
            .collect()
            .await;
        assert_eq!(read.len(), 3, "two rows, then the error, then nothing");
        assert!(read[2].is_err());
        assert_eq!(serves().await, 7);

        let whole: Vec<i64> = copy_out(&pool, "g::int8", rows, count)
            .map(|row| row.expect("a row"))
            .collect()
            .await;
        assert_eq!(whole, (1..=10000).collect::<Vec<i64>>());
        assert_eq!(serves().await, 7);
    }

    #[test]
    fn literals_read_back_as_the_value() {
        assert_eq!(text_literal("BTC").unwrap(), "E'BTC'");
        assert_eq!(text_literal("a'b\\c").unwrap(), "E'a''b\\\\c'");
        assert_eq!(text_literal("nul\0"), None);
    }
}
