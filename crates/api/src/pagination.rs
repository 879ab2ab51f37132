//! Cursor pagination (DESIGN.md "Lists are paginated by cursor, newest first, with
//! stable ordering"). A page carries `next_cursor` when more rows exist; the cursor is
//! opaque to clients (the last row's position, base-16 encoded).

use serde::Serialize;
use uuid::Uuid;

use crate::problem::Problem;

/// Default rows per page.
pub const DEFAULT_LIMIT: u32 = 100;
/// Most rows per page.
pub const MAX_LIMIT: u32 = 500;

/// One page of a list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The rows, newest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page size asked for, bounded (422 outside 1..=500).
    pub fn limit(asked: Option<u32>) -> Result<u32, Problem> {
        match asked {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(Problem::validation(
                "limit",
                format!("must be 1 to {MAX_LIMIT}"),
            )),
        }
    }

    /// A page from up to `limit + 1` rows (the extra one only says "there is more").
    pub fn from_rows(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    /// The same page with every row converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// Encoding and decoding of cursors.
pub struct Cursor;

impl Cursor {
    /// A cursor for a journal position.
    pub fn encode_seq(seq: i64) -> String {
        format!("s{seq:x}")
    }

    /// The journal position a cursor names (400 `validation` if it is not a cursor).
    pub fn decode_seq(cursor: Option<&str>) -> Result<Option<i64>, Problem> {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        cursor
            .strip_prefix('s')
            .and_then(|hex| i64::from_str_radix(hex, 16).ok())
            .filter(|seq| *seq > 0)
            .map(Some)
            .ok_or_else(|| Problem::validation("cursor", "not a cursor from this list"))
    }

    /// A cursor for an id-ordered list (UUIDv7 ids sort by creation time).
    pub fn encode_id(id: Uuid) -> String {
        id.simple().to_string()
    }

    /// The id a cursor names.
    pub fn decode_id(cursor: Option<&str>) -> Result<Option<Uuid>, Problem> {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        Uuid::try_parse(cursor)
            .map(Some)
            .map_err(|_| Problem::validation("cursor", "not a cursor from this list"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            Cursor::decode_seq(Some(&Cursor::encode_seq(42))).unwrap(),
            Some(42)
        );
        assert!(Cursor::decode_seq(Some("42")).is_err());
        assert!(Cursor::decode_seq(Some("s-1")).is_err());
        let id = Uuid::now_v7();
        assert_eq!(
            Cursor::decode_id(Some(&Cursor::encode_id(id))).unwrap(),
            Some(id)
        );
        assert!(Cursor::decode_id(Some("nope")).is_err());
    }

    #[test]
    fn a_page_says_whether_there_is_more() {
        let page = Page::from_rows(vec![5, 4, 3], 2, |n| n.to_string());
        assert_eq!(page.items, vec![5, 4]);
        assert_eq!(page.next_cursor.as_deref(), Some("4"));
        let last = Page::from_rows(vec![2, 1], 2, |n| n.to_string());
        assert_eq!(last.next_cursor, None);
        assert!(Page::<()>::limit(Some(0)).is_err());
        assert!(Page::<()>::limit(Some(501)).is_err());
        assert_eq!(Page::<()>::limit(None).unwrap(), DEFAULT_LIMIT);
    }
}
