//! Rate limits (governor's GCRA, keyed): per client IP on every request, per
//! principal on authenticated ones, and per account and per IP on login attempts.
//!
//! Every response carries the tighter of the limits that applied, as the IETF
//! draft's `RateLimit-Limit` (the burst), `RateLimit-Remaining` and
//! `RateLimit-Reset` (seconds until the burst is whole again). A refused request
//! gets 429 `rate-limited` with `Retry-After`. The published defaults are in
//! docs/security.md; state is per node and forgotten for idle keys every minute.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

use crate::problem::Problem;

/// A rate: `per_minute` sustained, with bursts of up to `burst` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per minute, sustained.
    pub per_minute: u32,
    /// Requests allowed at once.
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Quota {
        let per_minute = NonZeroU32::new(self.per_minute.max(1)).expect("at least 1");
        let burst = NonZeroU32::new(self.burst.max(1)).expect("at least 1");
        Quota::per_minute(per_minute).allow_burst(burst)
    }
}

/// The limits a server enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Per authenticated user (sessions and API keys of one user share it).
    pub per_principal: Rate,
    /// Per client IP address, every request.
    pub per_ip: Rate,
    /// Login attempts per account (email).
    pub login_per_account: Rate,
    /// Login attempts per client IP.
    pub login_per_ip: Rate,
}

impl Default for RateLimitConfig {
    /// The published defaults (docs/security.md).
    fn default() -> Self {
        RateLimitConfig {
            per_principal: Rate {
                per_minute: 1200,
                burst: 200,
            },
            per_ip: Rate {
                per_minute: 3000,
                burst: 500,
            },
            login_per_account: Rate {
                per_minute: 1,
                burst: 5,
            },
            login_per_ip: Rate {
                per_minute: 10,
                burst: 20,
            },
        }
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Where a client stands against one limit after a request was let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The burst size.
    pub limit: u32,
    /// Requests left in the burst.
    pub remaining: u32,
    /// Seconds until the burst is whole again.
    pub reset_secs: u64,
}

impl Standing {
    /// The tighter of two standings.
    pub fn tighter(self, other: Standing) -> Standing {
        if other.remaining < self.remaining {
            other
        } else {
            self
        }
    }

    /// Sets the `RateLimit-*` headers.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("ratelimit-limit", self.limit as u64),
            ("ratelimit-remaining", self.remaining as u64),
            ("ratelimit-reset", self.reset_secs),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

/// One keyed limiter.
struct Limiter<K: Hash + Eq + Clone> {
    inner: Keyed<K>,
    rate: Rate,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(rate: Rate) -> Limiter<K> {
        Limiter {
            inner: RateLimiter::keyed(rate.quota()).with_middleware::<StateInformationMiddleware>(),
            rate,
        }
    }

    /// Counts a request for `key`: where it stands, or 429 with `Retry-After`.
    fn check(&self, key: &K, what: &str) -> Result<Standing, Problem> {
        let quota = self.rate.quota();
        match self.inner.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = self.rate.burst.saturating_sub(remaining);
                let reset = quota.replenish_interval() * used;
                Ok(Standing {
                    limit: self.rate.burst,
                    remaining,
                    reset_secs: ceil_secs(reset),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.inner.clock().now());
                let retry_after_secs = ceil_secs(wait).max(1);
                let standing = Standing {
                    limit: self.rate.burst,
                    remaining: 0,
                    reset_secs: ceil_secs(quota.burst_size_replenished_in()),
                };
                let mut problem = Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                )
                .with_detail(format!(
                    "the {what} limit is {} requests per minute with bursts of {}; \
                     retry in {retry_after_secs} s",
                    self.rate.per_minute, self.rate.burst
                ))
                .with_retry_after(retry_after_secs);
                for (name, value) in [
                    ("ratelimit-limit", standing.limit.to_string()),
                    ("ratelimit-remaining", "0".to_string()),
                    ("ratelimit-reset", standing.reset_secs.to_string()),
                ] {
                    problem = problem.with_header(name, value);
                }
                Err(problem)
            }
        }
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The server's limiters.
pub struct RateLimits {
    per_principal: Limiter<Uuid>,
    per_ip: Limiter<IpAddr>,
    login_per_account: Limiter<String>,
    login_per_ip: Limiter<IpAddr>,
}

impl RateLimits {
    /// Limiters for `config`.
    pub fn new(config: &RateLimitConfig) -> RateLimits {
        RateLimits {
            per_principal: Limiter::new(config.per_principal),
            per_ip: Limiter::new(config.per_ip),
            login_per_account: Limiter::new(config.login_per_account),
            login_per_ip: Limiter::new(config.login_per_ip),
        }
    }

    /// Counts a request from `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<Standing, Problem> {
        self.per_ip.check(&ip, "per-IP")
    }

    /// Counts a request by user `user_id`.
    pub fn check_principal(&self, user_id: Uuid) -> Result<Standing, Problem> {
        self.per_principal.check(&user_id, "per-user")
    }

    /// Counts a login attempt for `email` from `ip` (both limits must allow it).
    pub fn check_login(&self, email: &str, ip: Option<IpAddr>) -> Result<(), Problem> {
        if let Some(ip) = ip {
            self.login_per_ip.check(&ip, "login per-IP")?;
        }
        self.login_per_account
            .check(&email.to_string(), "login per-account")?;
        Ok(())
    }

    /// Forgets keys that have been idle long enough to be back at a full burst.
    pub fn forget_idle(&self) {
        self.per_principal.inner.retain_recent();
        self.per_ip.inner.retain_recent();
        self.login_per_account.inner.retain_recent();
        self.login_per_ip.inner.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_is_allowed_then_refused_with_retry_after() {
        let limiter = Limiter::<u8>::new(Rate {
            per_minute: 6,
            burst: 3,
        });
        let first = limiter.check(&1, "test").unwrap();
        assert_eq!((first.limit, first.remaining), (3, 2));
        assert_eq!(first.reset_secs, 10);
        limiter.check(&1, "test").unwrap();
        let last = limiter.check(&1, "test").unwrap();
        assert_eq!(last.remaining, 0);
        let refused = limiter.check(&1, "test").unwrap_err();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=10).contains(&retry), "retry after {retry}");
        // Other keys are untouched.
        assert_eq!(limiter.check(&2, "test").unwrap().remaining, 2);
    }
}
