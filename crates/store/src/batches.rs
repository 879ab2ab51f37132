//! Reading one long query on a task of its own, handed over in batches: the rows
//! are decoded on one core while the reader (an export's formatter, a book being
//! rebuilt) works on another. At most `in_flight` batches wait, so memory stays
//! bounded however many rows the query returns.

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::StoreError;

/// How many rows make a batch and how many batches may wait for the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Rows per batch.
    pub rows: usize,
    /// Batches decoded ahead of the reader.
    pub in_flight: usize,
}

/// Spawns a task that runs `open(&source)` and sends its rows, in order, in
/// batches of `limits.rows`. The first error is sent and ends the task; dropping
/// the receiver stops it. `source` is what the stream borrows (the store and the
/// query's parameters), owned by the task.
pub fn read_in_batches<S, T>(
    source: S,
    open: fn(&S) -> BoxStream<'_, Result<T, StoreError>>,
    limits: BatchLimits,
) -> mpsc::Receiver<Result<Vec<T>, StoreError>>
where
    S: Send + Sync + 'static,
    T: Send + 'static,
{
    assert!(limits.rows > 0 && limits.in_flight > 0);
    let (tx, rx) = mpsc::channel(limits.in_flight);
    tokio::spawn(async move {
        let mut rows = open(&source);
        let mut batch = Vec::with_capacity(limits.rows);
        while let Some(row) = rows.next().await {
            match row {
                Ok(row) => batch.push(row),
                Err(err) => {
                    let _ = tx.send(Err(err)).await;
                    return;
                }
            }
            if batch.len() == limits.rows {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(limits.rows));
                if tx.send(Ok(full)).await.is_err() {
                    return; // the reader went away
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(Ok(batch)).await;
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(n: &u32) -> BoxStream<'_, Result<u32, StoreError>> {
        futures_util::stream::iter((0..*n).map(Ok)).boxed()
    }

    #[tokio::test]
    async fn every_row_in_order_in_bounded_batches() {
        let limits = BatchLimits {
            rows: 4,
            in_flight: 2,
        };
        let mut rx = read_in_batches(10u32, numbers, limits);
        let mut sizes = Vec::new();
        let mut all = Vec::new();
        while let Some(batch) = rx.recv().await {
            let batch = batch.unwrap();
            sizes.push(batch.len());
            all.extend(batch);
        }
        assert_eq!(sizes, vec![4, 4, 2]);
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }
}
