//! RFC 9457 `application/problem+json` errors with stable slugs (API.md "Errors").
//!
//! Every 4xx/5xx the server sends is a [`Problem`]. Handlers return
//! `Result<_, Problem>`; errors that do not come from a handler (an unknown route, a
//! method not allowed, a body over the limit) are turned into problems by
//! [`problemize`], so no client ever sees a bare status or an HTML page.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Where problem types live; a problem's `type` is this plus its slug.
pub const PROBLEM_TYPE_BASE: &str = "https://hashmarket.dev/problems/";
/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The JSON field (dotted path) or parameter at fault.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An error answer: status, stable slug, human title and detail, field errors.
///
/// Serialized as `{type, title, status, detail?, errors?, retry_after_secs?}` where
/// `type` is [`PROBLEM_TYPE_BASE`] + slug.
#[derive(Debug, Clone)]
pub struct Problem {
    status: u16,
    slug: &'static str,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    retry_after_secs: Option<u64>,
    /// Rarely used parts, boxed to keep `Result<_, Problem>` small.
    extra: Option<Box<Extra>>,
}

/// The rarely used parts of a [`Problem`].
#[derive(Debug, Clone, Default)]
struct Extra {
    string_to_sign: Option<String>,
    headers: Vec<(&'static str, String)>,
}

/// The wire form of a [`Problem`] (name it in OpenAPI `body = ProblemWire`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemWire<'a> {
    /// `https://hashmarket.dev/problems/<slug>`.
    #[serde(rename = "type")]
    type_uri: String,
    /// A short human summary, the same for every problem of this slug.
    title: &'a str,
    /// The HTTP status, repeated in the body.
    status: u16,
    /// What happened in this case.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    /// Field-level validation errors.
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
    /// Seconds to wait before retrying (sent as `Retry-After` too).
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
    /// `signature-invalid` only: the string the server signed, to compare with
    /// the one the client signed (it holds nothing secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    string_to_sign: Option<&'a str>,
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ProblemWire {
            type_uri: format!("{PROBLEM_TYPE_BASE}{}", self.slug),
            title: self.title,
            status: self.status,
            detail: self.detail.as_deref(),
            errors: &self.errors,
            retry_after_secs: self.retry_after_secs,
            string_to_sign: self
                .extra
                .as_ref()
                .and_then(|e| e.string_to_sign.as_deref()),
        }
        .serialize(serializer)
    }
}

impl Problem {
    /// A problem of the given status and slug.
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str) -> Problem {
        Problem {
            status: status.as_u16(),
            slug,
            title,
            detail: None,
            errors: Vec::new(),
            retry_after_secs: None,
            extra: None,
        }
    }

    /// The stable slug (`validation`, `not-found`, ...).
    pub fn slug(&self) -> &'static str {
        self.slug
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The field errors.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Adds the case-specific detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    /// Adds one field error.
    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Problem {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    /// Sets `Retry-After`.
    pub fn with_retry_after(mut self, secs: u64) -> Problem {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Adds a response header (e.g. `RateLimit-*`).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Problem {
        self.extra
            .get_or_insert_with(Default::default)
            .headers
            .push((name, value.into()));
        self
    }

    /// A header added with [`Problem::with_header`] (or `retry-after`).
    pub fn header(&self, name: &str) -> Option<String> {
        if name.eq_ignore_ascii_case("retry-after") {
            if let Some(secs) = self.retry_after_secs {
                return Some(secs.to_string());
            }
        }
        self.extra
            .as_ref()?
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// Adds the string-to-sign the server computed (`signature-invalid`).
    pub fn with_string_to_sign(mut self, string_to_sign: String) -> Problem {
        self.extra
            .get_or_insert_with(Default::default)
            .string_to_sign = Some(string_to_sign);
        self
    }

    /// 422 `validation`: the request is well-formed but a value is not acceptable.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid request",
        )
        .with_field(field, message)
    }

    /// 400 `validation`: the request could not be read at all (malformed JSON, bad query).
    pub fn malformed(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "validation", "Malformed request").with_detail(detail)
    }

    /// 404 `not-found`; also the answer for another user's resources.
    pub fn not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
    }

    /// 500 `internal`: never for bad input; the detail stays in the logs.
    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        )
    }

    /// 503 `unavailable`.
    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
        )
        .with_detail(detail)
    }

    /// The problem a bare error status stands for, when nothing more is known.
    pub fn for_status(status: StatusCode) -> Problem {
        let (slug, title) = match status.as_u16() {
            400 => ("validation", "Malformed request"),
            401 => ("unauthorized", "Unauthorized"),
            403 => ("forbidden", "Forbidden"),
            404 => ("not-found", "Not found"),
            405 => ("method-not-allowed", "Method not allowed"),
            406 => ("not-acceptable", "Not acceptable"),
            408 => ("request-timeout", "Request timeout"),
            409 => ("conflict", "Conflict"),
            411 => ("length-required", "Length required"),
            413 => ("payload-too-large", "Payload too large"),
            414 => ("uri-too-long", "URI too long"),
            415 => ("unsupported-media-type", "Unsupported media type"),
            422 => ("validation", "Invalid request"),
            429 => ("rate-limited", "Too many requests"),
            431 => ("headers-too-large", "Request header fields too large"),
            503 => ("unavailable", "Service unavailable"),
            s if s >= 500 => ("internal", "Internal server error"),
            _ => ("error", "Error"),
        };
        Problem::new(status, slug, title)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.slug)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE));
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        for (name, value) in self.extra.iter().flat_map(|e| e.headers.iter()) {
            response.insert_header((*name, value.as_str()));
        }
        response.json(self)
    }
}

/// Error-handler middleware hook: rewrites any error response that is not already a
/// problem (404 for an unknown route, 405, a 413 from a payload limit, ...) into one.
pub fn problemize<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let mut problem = Problem::for_status(status);
    if let Some(err) = old.error() {
        if status.is_client_error() {
            problem = problem.with_detail(err.to_string());
        } else {
            tracing::error!(error = %err, "request failed");
        }
    }
    let mut new = problem.error_response();
    // Keep headers the original answer carried (Allow on 405, rate-limit headers, ...).
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}
