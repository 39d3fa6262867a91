//! Extractors: who is calling (session cookie or API key), whether they may manage the
//! workspace, and JSON bodies whose rejections use the API's error shape.

use axum::extract::rejection::JsonRejection;
use std::net::{IpAddr, SocketAddr};

use axum::extract::multipart::MultipartError;
use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, Multipart, Request, WebSocketUpgrade,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;

use crate::accounts::Credential;
use crate::auth;
use crate::domain::upload::Upload;
use crate::error::{ApiError, Code};
use crate::state::AppState;
use crate::store::UserRecord;

pub const SESSION_COOKIE: &str = "baton_session";

/// Ends the session the request's cookie names (if any) and answers the jar without it.
pub async fn end_session(state: &AppState, jar: CookieJar) -> Result<CookieJar, ApiError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state
            .store
            .delete_session(&auth::digest(cookie.value()))
            .await?;
    }
    let gone = axum_extra::extract::cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .build();
    Ok(jar.remove(gone))
}

/// The session cookie: HttpOnly (no script reads it), SameSite=Lax (no other site's form
/// sends it), Secure when Baton is served over HTTPS, and as long-lived as the session.
pub fn session_cookie(
    state: &AppState,
    token: String,
) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .secure(state.config.public_url.starts_with("https://"))
        .max_age(time::Duration::milliseconds(
            crate::accounts::SESSION_TTL_MS,
        ))
        .build()
}

/// Whether a client-given id has the shape of one: 1 to 64 ASCII letters, digits, `-` or `_`
/// (Baton's own ids, a widget message's `client_id`).
pub fn id_shaped(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The token of an `Authorization: Bearer <token>` header (the scheme name is
/// case-insensitive, RFC 7235).
pub fn bearer(value: &axum::http::HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// Whether a browser made this request for a page of another site (or a sibling subdomain),
/// which must not borrow the session cookie: a cross-site request forgery, or a WebSocket
/// opened by someone else's page. Browsers say where a request comes from in `Sec-Fetch-Site`
/// (over HTTPS and on localhost); otherwise only in `Origin`, whose host is compared with the
/// host the request was sent to, the host a proxy says it was sent to (`X-Forwarded-Host`),
/// and Baton's public URL. A request with neither header comes from a program, not a page, and
/// carries no cookie it did not mean to send; nor does an opaque `Origin: null` without
/// `Sec-Fetch-Site` prove another site (a `no-referrer` policy sends it for our own forms).
pub fn from_another_site(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or_default();
    if origin == "null" {
        return false;
    }
    let Some((scheme, origin)) = authority(origin) else {
        return true;
    };
    let named = |name: &str| {
        headers
            .get(name)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.split(',').next())
            .map(|h| normalised(h.trim(), default_port(scheme)))
    };
    let ours = [
        authority(public_url).map(|(_, host)| host),
        named("host"),
        named("x-forwarded-host"),
    ];
    !ours.into_iter().flatten().any(|host| host == origin)
}

/// A URL's scheme and its host with the port, lowercase, the scheme's default port left out.
fn authority(url: &str) -> Option<(&str, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| (scheme, normalised(host, default_port(scheme))))
}

fn default_port(scheme: &str) -> &'static str {
    if scheme.eq_ignore_ascii_case("https") {
        ":443"
    } else {
        ":80"
    }
}

fn normalised(host: &str, default_port: &str) -> String {
    let host = host.to_ascii_lowercase();
    host.strip_suffix(default_port).unwrap_or(&host).to_owned()
}

/// An authenticated user of a workspace; every query a handler makes is scoped by
/// `user.workspace_id`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRecord,
    /// The session's CSRF token; `None` for API-key callers, who have no cookie to abuse.
    pub csrf_token: Option<String>,
    /// The session or key the request came with.
    pub credential: Credential,
}

impl Caller {
    pub fn workspace_id(&self) -> &str {
        &self.user.workspace_id
    }

    pub fn is_admin(&self) -> bool {
        self.user.role().is_admin()
    }

    /// The caller as the handoff rules see them.
    pub fn actor(&self) -> crate::domain::handoff::Actor<'_> {
        crate::domain::handoff::Actor {
            user_id: &self.user.id,
            is_admin: self.is_admin(),
        }
    }

    /// The caller as a member acting on a handoff: who wrote a note, who filed it.
    pub fn member(&self) -> crate::store::Member<'_> {
        crate::store::Member {
            user_id: &self.user.id,
            name: &self.user.name,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = state.clock.now_ms();
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let key = bearer(value).ok_or_else(|| {
                ApiError::new(
                    Code::AuthenticationRequired,
                    "the Authorization header must be \"Bearer <api key>\"",
                )
            })?;
            let credential = Credential::ApiKey(auth::digest(key));
            let user = credential.user(&state.store, now).await?;
            return user
                .map(|user| Caller {
                    user,
                    csrf_token: None,
                    credential,
                })
                .ok_or_else(|| ApiError::new(Code::AuthenticationRequired, "unknown API key"));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(cookie) = jar.get(SESSION_COOKIE) {
            let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let websocket = parts.headers.contains_key(header::UPGRADE);
            if (changes || websocket) && from_another_site(&parts.headers, &state.config.public_url)
            {
                return Err(ApiError::forbidden(
                    "a request from another site may not use this session; send an API key",
                ));
            }
            let digest = auth::digest(cookie.value());
            let session = state.store.session(&digest, now).await?;
            if let Some(session) = session {
                if session.user.must_change_password() && !open_before_password_change(parts) {
                    return Err(ApiError::new(
                        Code::PasswordChangeRequired,
                        "choose your own password first (POST /api/v1/me/password): this \
                         account still has its one-time password",
                    ));
                }
                return Ok(Caller {
                    user: session.user,
                    csrf_token: Some(session.csrf_token),
                    credential: Credential::Session(digest),
                });
            }
        }
        Err(ApiError::new(
            Code::AuthenticationRequired,
            "log in or send an API key",
        ))
    }
}

/// What a session whose password must be changed may still reach: who am I, the password
/// change, logging out, and the dashboard (whose pages send the user to the password page).
fn open_before_password_change(parts: &Parts) -> bool {
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(parts.uri.path(), |original| original.0.path());
    !path.starts_with("/api/")
        || (path == "/api/v1/me" && parts.method == Method::GET)
        || matches!(path, "/api/v1/me/password" | "/api/v1/auth/logout")
}

/// A caller who may manage the workspace: an owner or an admin.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.is_admin() {
            return Err(ApiError::forbidden("only admins can do this"));
        }
        Ok(Admin(caller))
    }
}

/// A JSON body; malformed JSON is a 400, a body of the wrong shape a 422, too large a 413.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A file sent as `multipart/form-data`: the part `file` (its bytes and file name) and an
/// optional `client_id` (chosen by the sender per file and sent again with a retry). What the
/// file is is checked ([`Upload::check`]); anything wrong is a 4xx in the API's shape.
pub struct FileUpload {
    pub upload: Upload,
    pub client_id: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for FileUpload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(Code::BadRequest, e.body_text()))?;
        let (mut file, mut client_id) = (None, None);
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("file") => {
                    let name = field.file_name().map(str::to_owned);
                    let bytes = field.bytes().await.map_err(multipart_error)?;
                    file = Some(Upload::check("file", name.as_deref(), Vec::from(bytes))?);
                }
                Some("client_id") => {
                    client_id = Some(field.text().await.map_err(multipart_error)?);
                }
                _ => {}
            }
        }
        let upload = file.ok_or_else(|| ApiError::validation("file: is required"))?;
        Ok(FileUpload { upload, client_id })
    }
}

/// A broken or oversized multipart body: 413 when it is too large, else 400.
pub fn multipart_error(error: MultipartError) -> ApiError {
    let code = if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Code::PayloadTooLarge
    } else {
        Code::BadRequest
    };
    ApiError::new(code, error.body_text())
}

/// A query string; one that does not parse is a 400 in the API's error shape (not axum's
/// plain text, which a client reading JSON cannot show).
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::new(Code::BadRequest, rejection.body_text())),
        }
    }
}

/// A WebSocket handshake. A plain HTTP request to a stream's address gets a 426 in the API's
/// error shape, saying what to do, instead of axum's plain-text rejection.
pub struct WsUpgrade(pub WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for WsUpgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(WsUpgrade)
            .map_err(|rejection| {
                ApiError::new(
                    Code::UpgradeRequired,
                    format!(
                        "this address is a WebSocket stream: connect with a WebSocket client \
                         ({})",
                        rejection.body_text()
                    ),
                )
            })
    }
}

/// Where a request comes from, as a rate-limit key: the connection's peer, or behind
/// `BATON_PROXY_HOPS` reverse proxies the address the outermost of them saw. IPv6 addresses
/// are cut to their /64, the block one subscriber usually holds whole.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let addr = client_ip(&parts.headers, peer, state.config.proxy_hops);
        Ok(ClientAddr(
            addr.map_or_else(|| "unknown".to_owned(), rate_key),
        ))
    }
}

/// The client's address: with `hops` proxies of ours in front, each appending the address it
/// was reached from to `X-Forwarded-For`, the `hops`-th entry from the right (entries further
/// left are whatever the client wrote). Without proxies, or without the header, the peer.
fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, hops: usize) -> Option<IpAddr> {
    if hops == 0 {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    // Fewer entries than proxies: the request passed fewer of them; the leftmost is one's.
    let Some(entry) = entries
        .len()
        .checked_sub(hops)
        .map_or(entries.first(), |at| entries.get(at))
    else {
        return peer;
    };
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or(peer)
}

fn rate_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let code = match &rejection {
        JsonRejection::JsonDataError(_) => Code::InvalidBody,
        JsonRejection::JsonSyntaxError(_) => Code::MalformedJson,
        JsonRejection::MissingJsonContentType(_) => Code::UnsupportedMediaType,
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        _ => Code::BadRequest,
    };
    let message = match code {
        Code::PayloadTooLarge => "the request body is too large".to_owned(),
        Code::UnsupportedMediaType => "send the body as application/json".to_owned(),
        _ => rejection.body_text(),
    };
    ApiError::new(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_client_is_the_peer_unless_our_proxies_say_otherwise() {
        let peer = Some("10.0.0.9".parse().unwrap());
        let forwarded = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        // Without proxies the header is anyone's to write.
        assert_eq!(client_ip(&forwarded, peer, 0), peer);
        // One proxy: it appended the address it saw, the last entry.
        assert_eq!(
            client_ip(&forwarded, peer, 1),
            Some("203.0.113.7".parse().unwrap())
        );
        assert_eq!(
            client_ip(&forwarded, peer, 2),
            Some("6.6.6.6".parse().unwrap())
        );
        assert_eq!(
            client_ip(&forwarded, peer, 5),
            Some("6.6.6.6".parse().unwrap())
        );
        assert_eq!(client_ip(&headers(&[]), peer, 1), peer);
        let with_port = headers(&[("x-forwarded-for", "203.0.113.7:4711")]);
        assert_eq!(
            client_ip(&with_port, peer, 1),
            Some("203.0.113.7".parse().unwrap())
        );
        let garbage = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(client_ip(&garbage, peer, 1), peer);
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_block() {
        let key = |ip: &str| rate_key(ip.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(key("192.0.2.1"), "192.0.2.1");
    }

    #[test]
    fn requests_from_other_sites_are_told_apart() {
        let public = "https://help.example";
        let same = [
            headers(&[]),
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[("sec-fetch-site", "none")]),
            headers(&[("origin", "https://help.example")]),
            headers(&[("origin", "https://Help.Example:443")]),
            headers(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ]),
            // Behind a proxy that rewrites Host, with the public URL unset or elsewhere.
            headers(&[
                ("origin", "http://baton.intra"),
                ("host", "127.0.0.1:8080"),
                ("x-forwarded-host", "baton.intra"),
            ]),
            headers(&[("origin", "null"), ("host", "help.example")]),
        ];
        for h in &same {
            assert!(!from_another_site(h, public), "{h:?}");
        }
        let other = [
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://help.example"),
            ]),
            headers(&[("sec-fetch-site", "cross-site"), ("origin", "null")]),
            headers(&[("origin", "https://evil.example"), ("host", "help.example")]),
            headers(&[("origin", "https://evil.example")]),
            headers(&[
                ("origin", "https://help.example.evil.example"),
                ("host", "x"),
            ]),
        ];
        for h in &other {
            assert!(from_another_site(h, public), "{h:?}");
        }
    }
}
