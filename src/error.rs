//! The API error: a stable snake_case code, an HTTP status from one table, and a message safe to
//! show. Internal failures are logged with their detail and answered with a generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::handoff::Refusal;
use crate::store::StoreError;

/// Every error code the API can answer with; [`Code::status`] is the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    MalformedJson,
    BadRequest,
    InvalidBody,
    ValidationFailed,
    AuthenticationRequired,
    InvalidCredentials,
    Forbidden,
    PasswordChangeRequired,
    NotFound,
    MethodNotAllowed,
    Conflict,
    AlreadyClaimed,
    NotClaimHolder,
    HandoffNotOpen,
    ToolNotInstalled,
    WindowClosed,
    WhatsappRefused,
    WhatsappUnreachable,
    PageUnreadable,
    PayloadTooLarge,
    UnsupportedMediaType,
    UpgradeRequired,
    RateLimited,
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MalformedJson => "malformed_json",
            Code::BadRequest => "bad_request",
            Code::InvalidBody => "invalid_body",
            Code::ValidationFailed => "validation_failed",
            Code::AuthenticationRequired => "authentication_required",
            Code::InvalidCredentials => "invalid_credentials",
            Code::Forbidden => "forbidden",
            Code::PasswordChangeRequired => "password_change_required",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::Conflict => "conflict",
            Code::AlreadyClaimed => "already_claimed",
            Code::NotClaimHolder => "not_claim_holder",
            Code::HandoffNotOpen => "handoff_not_open",
            Code::ToolNotInstalled => "tool_not_installed",
            Code::WindowClosed => "whatsapp_window_closed",
            Code::WhatsappRefused => "whatsapp_refused",
            Code::WhatsappUnreachable => "whatsapp_unreachable",
            Code::PageUnreadable => "page_unreadable",
            Code::PayloadTooLarge => "payload_too_large",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::UpgradeRequired => "upgrade_required",
            Code::RateLimited => "rate_limited",
            Code::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::MalformedJson | Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::InvalidBody
            | Code::ValidationFailed
            | Code::WhatsappRefused
            | Code::PageUnreadable => StatusCode::UNPROCESSABLE_ENTITY,
            Code::AuthenticationRequired | Code::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Code::Forbidden | Code::PasswordChangeRequired => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Conflict
            | Code::AlreadyClaimed
            | Code::NotClaimHolder
            | Code::HandoffNotOpen
            | Code::ToolNotInstalled
            | Code::WindowClosed => StatusCode::CONFLICT,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UpgradeRequired => StatusCode::UPGRADE_REQUIRED,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::WhatsappUnreachable => StatusCode::BAD_GATEWAY,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// More fields for the error object, such as who holds a claimed handoff.
    pub details: Option<serde_json::Value>,
    /// For `rate_limited`: how long until a retry can succeed (`Retry-After`).
    pub retry_after: Option<std::time::Duration>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 429 with `Retry-After` (whole seconds, rounded up) and `retry_after_seconds` in the
    /// body, for clients that cannot read headers.
    pub fn rate_limited(message: impl Into<String>, wait: std::time::Duration) -> Self {
        let seconds = crate::throttle::whole_seconds(wait);
        let mut err = Self::new(Code::RateLimited, message)
            .with_details(json!({"retry_after_seconds": seconds}));
        err.retry_after = Some(std::time::Duration::from_secs(seconds));
        err
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(Code::ValidationFailed, message)
    }

    /// Logs the detail of an unexpected failure and hides it from the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(Code::Internal, "something went wrong on our side")
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(message) => ApiError::new(Code::Conflict, message),
            StoreError::Refused(refusal) => refused(refusal),
            other => ApiError::internal(other),
        }
    }
}

/// A handoff rule's refusal as an API error. Holder ids are filled in with names by the caller
/// (see `http::api::handoffs`), since only it can look them up.
fn refused(refusal: Refusal) -> ApiError {
    let code = match refusal {
        Refusal::AlreadyClaimed { .. } => Code::AlreadyClaimed,
        Refusal::NotHolder { .. } | Refusal::NotClaimed => Code::NotClaimHolder,
        Refusal::Closed => Code::HandoffNotOpen,
        Refusal::NothingToRelease | Refusal::AlreadyHolds { .. } | Refusal::ChangedHands { .. } => {
            Code::Conflict
        }
        Refusal::AdminOnly => Code::Forbidden,
    };
    ApiError::new(code, refusal.to_string())
}

impl From<crate::domain::ParseError> for ApiError {
    fn from(err: crate::domain::ParseError) -> Self {
        ApiError::validation(err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code.as_str(), "message": self.message});
        if let Some(serde_json::Value::Object(details)) = self.details {
            for (key, value) in details {
                error[key] = value;
            }
        }
        let body = json!({ "error": error });
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(wait.as_secs()),
            );
        }
        if self.code == Code::UpgradeRequired {
            // RFC 9110 §15.5.22: a 426 names the protocol to switch to.
            let headers = response.headers_mut();
            headers.insert(
                axum::http::header::UPGRADE,
                axum::http::HeaderValue::from_static("websocket"),
            );
            headers.insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("Upgrade"),
            );
        }
        response
    }
}
