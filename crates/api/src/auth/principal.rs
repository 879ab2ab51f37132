//! Who is calling: the [`Principal`], its [`Role`], and the [`Scope`]s of an API key.

use std::future::{ready, Ready};

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::Problem;

/// What a user may do beyond their own account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A buyer and/or seller.
    User,
    /// Credits, hashprice, deliveries, withdrawal processing.
    Operator,
    /// Exports and reconciliation.
    Finance,
}

impl Role {
    /// The role's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Operator => "operator",
            Role::Finance => "finance",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "user" => Some(Role::User),
            "operator" => Some(Role::Operator),
            "finance" => Some(Role::Finance),
            _ => None,
        }
    }
}

/// What an API key may be used for (API.md: `read` for GETs, `trade` for rigs and
/// orders, `withdraw` for withdrawals).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read-only access.
    Read,
    /// Rigs and orders.
    Trade,
    /// Withdrawals.
    Withdraw,
}

impl Scope {
    /// The scope's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Trade => "trade",
            Scope::Withdraw => "withdraw",
        }
    }

    /// Parses a wire name.
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "read" => Some(Scope::Read),
            "trade" => Some(Scope::Trade),
            "withdraw" => Some(Scope::Withdraw),
            _ => None,
        }
    }

    fn bit(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::Trade => 2,
            Scope::Withdraw => 4,
        }
    }
}

/// A set of scopes, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeSet(u8);

impl ScopeSet {
    /// Every scope: what a person's session may do.
    pub const ALL: ScopeSet = ScopeSet(7);

    /// The set of the given scopes.
    pub fn of(scopes: &[Scope]) -> ScopeSet {
        ScopeSet(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// Whether `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes in the set, in a stable order.
    pub fn to_vec(self) -> Vec<Scope> {
        [Scope::Read, Scope::Trade, Scope::Withdraw]
            .into_iter()
            .filter(|s| self.contains(*s))
            .collect()
    }
}

/// How the principal proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A bearer access token from login (a person).
    Session {
        /// The session (refresh-token family) the token belongs to.
        session_id: Uuid,
    },
    /// A signed request with an API key (a program).
    ApiKey {
        /// The key's id.
        key_id: Uuid,
        /// What the key may do.
        scopes: ScopeSet,
    },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user acting.
    pub user_id: Uuid,
    /// The user's role.
    pub role: Role,
    /// Whether the user has verified their email (orders, rigs, withdrawals need it).
    pub email_verified: bool,
    /// How they authenticated.
    pub credential: Credential,
}

impl Principal {
    /// 401 `unauthorized` with a detail.
    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized").with_detail(detail)
    }

    /// The scopes this principal holds (all of them for a session).
    pub fn scopes(&self) -> ScopeSet {
        match self.credential {
            Credential::Session { .. } => ScopeSet::ALL,
            Credential::ApiKey { scopes, .. } => scopes,
        }
    }

    /// 403 `scope-missing` unless the principal holds `scope`.
    pub fn require_scope(&self, scope: Scope) -> Result<(), Problem> {
        if self.scopes().contains(scope) {
            return Ok(());
        }
        Err(
            Problem::new(StatusCode::FORBIDDEN, "scope-missing", "Scope missing")
                .with_detail(format!("this API key lacks the {:?} scope", scope.as_str())),
        )
    }

    /// 403 `session-required` unless the principal logged in as a person: API
    /// keys cannot manage keys, sessions or second factors.
    pub fn require_session(&self) -> Result<(), Problem> {
        match self.credential {
            Credential::Session { .. } => Ok(()),
            Credential::ApiKey { .. } => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "session-required",
                "Session required",
            )
            .with_detail("log in with a password for this; API keys cannot do it")),
        }
    }

    /// 403 `forbidden` unless the principal has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        Err(
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
                .with_detail("your role may not do this"),
        )
    }

    /// 403 `email-unverified` until the user has verified their email.
    pub fn require_verified_email(&self) -> Result<(), Problem> {
        if self.email_verified {
            return Ok(());
        }
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "email-unverified",
            "Email not verified",
        )
        .with_detail("verify your email address first (POST /v1/auth/verify-email)"))
    }

    /// The key of idempotency records and rate limits: one namespace per user.
    pub fn scope_key(&self) -> String {
        self.user_id.to_string()
    }
}

/// Handlers take a `Principal` argument to require authentication (401 otherwise).
impl FromRequest for Principal {
    type Error = Problem;
    type Future = Ready<Result<Principal, Problem>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or_else(|| Principal::unauthorized("authentication required")),
        )
    }
}
