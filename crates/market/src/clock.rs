//! The business clock: the one source of "now" for everything in the domain —
//! contract start and end, accrual periods, deliveries, hashprice intervals.
//!
//! In production it is the wall clock. `hashmarket serve --simulated-clock <start>`
//! makes it a simulated clock that moves only when an operator sets it forward
//! (`POST /v1/admin/clock`), like Stripe's test clocks, so a 30-day contract can be
//! demonstrated or tested in seconds. Security windows (signatures, tokens) never
//! read this clock: they keep wall time.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// The settings key under which a simulated clock persists its time, so a restart
/// continues where it stopped instead of jumping back to the start.
pub const SIMULATED_CLOCK_SETTING: &str = "simulated_clock_now";

/// Why the clock could not be moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// Only a simulated clock can be set.
    #[error("the business clock is the wall clock; start the server with --simulated-clock")]
    NotSimulated,
    /// Time only moves forward.
    #[error("the clock only moves forward: it is {now}, asked for {asked}")]
    Backwards {
        /// The clock's current time.
        now: DateTime<Utc>,
        /// The time asked for.
        asked: DateTime<Utc>,
    },
}

/// The business clock; cheap to clone, shared by every part of the server.
#[derive(Debug, Clone)]
pub enum BusinessClock {
    /// Real time.
    Wall,
    /// Time that moves only when set.
    Simulated(Arc<RwLock<DateTime<Utc>>>),
}

impl BusinessClock {
    /// A simulated clock starting at `start`.
    pub fn simulated(start: DateTime<Utc>) -> BusinessClock {
        BusinessClock::Simulated(Arc::new(RwLock::new(start)))
    }

    /// The current business time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            BusinessClock::Wall => Utc::now(),
            BusinessClock::Simulated(now) => *now.read().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Whether this is a simulated clock.
    pub fn is_simulated(&self) -> bool {
        matches!(self, BusinessClock::Simulated(_))
    }

    /// Moves a simulated clock forward to `to` (setting it to its current time is a
    /// no-op, so a retried request succeeds).
    pub fn advance_to(&self, to: DateTime<Utc>) -> Result<DateTime<Utc>, ClockError> {
        let BusinessClock::Simulated(now) = self else {
            return Err(ClockError::NotSimulated);
        };
        let mut now = now.write().unwrap_or_else(|e| e.into_inner());
        if to < *now {
            return Err(ClockError::Backwards {
                now: *now,
                asked: to,
            });
        }
        *now = to;
        Ok(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn simulated_time_moves_only_forward_and_only_when_set() {
        let clock = BusinessClock::simulated(t("2026-01-01T00:00:00Z"));
        assert_eq!(clock.now(), t("2026-01-01T00:00:00Z"));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(
            clock.now(),
            t("2026-01-01T00:00:00Z"),
            "does not tick by itself"
        );
        clock.advance_to(t("2026-01-31T00:00:00Z")).unwrap();
        assert_eq!(clock.now(), t("2026-01-31T00:00:00Z"));
        clock.advance_to(t("2026-01-31T00:00:00Z")).unwrap();
        let err = clock.advance_to(t("2026-01-02T00:00:00Z")).unwrap_err();
        assert!(matches!(err, ClockError::Backwards { .. }));
        assert_eq!(clock.now(), t("2026-01-31T00:00:00Z"));
    }

    #[test]
    fn clones_share_one_time() {
        let clock = BusinessClock::simulated(t("2026-01-01T00:00:00Z"));
        let other = clock.clone();
        clock.advance_to(t("2026-02-01T00:00:00Z")).unwrap();
        assert_eq!(other.now(), t("2026-02-01T00:00:00Z"));
    }

    #[test]
    fn the_wall_clock_cannot_be_set() {
        let clock = BusinessClock::Wall;
        assert_eq!(clock.advance_to(Utc::now()), Err(ClockError::NotSimulated));
        let before = Utc::now();
        assert!(clock.now() >= before);
    }
}
