//! Outbound webhooks: every event an integrator's endpoint follows is POSTed to it, signed,
//! and retried with backoff until the endpoint answers 2xx or the attempts run out.
//!
//! The body is the event exactly as `GET /api/v1/events` shows it (`{"type", "seq", …}`).
//! The headers say what it is and prove who sent it:
//! - `X-Baton-Event`: the event type;
//! - `X-Baton-Delivery`: `<webhook_id>.<seq>`, the same on every retry, for de-duplication;
//! - `X-Baton-Timestamp`: unix seconds when this attempt was signed;
//! - `X-Baton-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the webhook's secret,
//!   of `<timestamp>.<body>` — a receiver recomputes it over the raw body and rejects old
//!   timestamps, so a captured delivery cannot be replayed later.
//!
//! Deliveries are queued in the transaction that records the event, and claimed with a lease
//! like the outbox ([`crate::channels::outbox`]), so several nodes can share the queue. A
//! webhook's deliveries go out one at a time in event order; different webhooks in parallel.
//! Delivery is at least once: a receiver de-duplicates on `X-Baton-Delivery`.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use std::net::SocketAddr;

use crate::channels::outbox::backoff_ms;
use crate::domain::webhook::{is_public, literal_local_address, local_refusal};
use crate::state::AppState;
use crate::store::{DeliveryOutcome, StoreError, WebhookDeliveryRecord};

pub const EVENT_HEADER: &str = "x-baton-event";
pub const DELIVERY_HEADER: &str = "x-baton-delivery";
pub const TIMESTAMP_HEADER: &str = "x-baton-timestamp";
pub const SIGNATURE_HEADER: &str = "x-baton-signature";

/// Attempts before a delivery is marked failed: with the outbox's backoff (2 s doubling, at
/// most 10 minutes apart) the last one is about an hour and a quarter after the first.
pub const MAX_ATTEMPTS: i64 = 16;
/// How long an endpoint has to answer one attempt.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries claimed at a time.
const BATCH: i64 = 20;
/// How long claimed deliveries are ours before another worker may take them. A webhook's
/// deliveries go one after another, so the lease outlasts a whole batch of timeouts: a
/// dead endpoint must not make another node send the same deliveries again meanwhile.
const LEASE_MS: i64 = BATCH * (TIMEOUT.as_millis() as i64 + 2_000);
/// Webhooks delivered to at the same time.
const PARALLEL: usize = 8;
/// The longest the worker sleeps without looking at the queue (other nodes queue too).
const IDLE: Duration = Duration::from_secs(2);

/// A new signing secret, shown to the integrator once.
pub fn new_secret() -> String {
    format!("whsec_{}", crate::auth::random_token())
}

/// The `X-Baton-Signature` value of a body sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Starts the delivery worker; it stops with the server.
pub fn spawn(state: &AppState) -> reqwest::Result<()> {
    let mut client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        // A redirect would re-send a signed body somewhere the admin never named.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Baton-Webhooks/", env!("CARGO_PKG_VERSION")));
    client = public_only(client, state.config.webhooks_allow_local);
    let client = client.build()?;
    let state = state.clone();
    tokio::spawn(async move {
        let mut shutdown = state.shutdown.clone();
        loop {
            match run_due(&state, &client).await {
                Ok(0) => {}
                Ok(_) => continue,
                Err(err) => tracing::warn!(error = %err, "webhooks: could not read the queue"),
            }
            let pause = match state.store.next_webhook_delivery_at().await {
                Ok(Some(at)) => {
                    let wait = at.saturating_sub(state.clock.now_ms()).max(0);
                    IDLE.min(Duration::from_millis(wait.unsigned_abs()))
                }
                _ => IDLE,
            };
            tokio::select! {
                () = state.store.webhook_queued() => {}
                () = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return,
            }
        }
    });
    Ok(())
}

/// Sends every delivery due now; answers how many it handled.
pub async fn run_due(state: &AppState, client: &reqwest::Client) -> Result<usize, StoreError> {
    let now = state.clock.now_ms();
    // Look before claiming: an idle queue costs a read, not a write lock.
    if !matches!(state.store.next_webhook_delivery_at().await?, Some(at) if at <= now) {
        return Ok(0);
    }
    let due = state
        .store
        .claim_webhook_deliveries(now, LEASE_MS, BATCH)
        .await?;
    let handled = due.len();
    let mut per_webhook: BTreeMap<String, Vec<WebhookDeliveryRecord>> = BTreeMap::new();
    for delivery in due {
        per_webhook
            .entry(delivery.webhook_id.clone())
            .or_default()
            .push(delivery);
    }
    futures_util::stream::iter(per_webhook.into_values())
        .for_each_concurrent(PARALLEL, |mut deliveries| async move {
            deliveries.sort_by_key(|d| d.seq);
            for delivery in deliveries {
                deliver(state, client, &delivery).await;
            }
        })
        .await;
    Ok(handled)
}

/// What one attempt gave: the endpoint's status if it answered, and what went wrong if not 2xx.
struct Attempt {
    response_status: Option<i64>,
    error: Option<String>,
    /// A failure no retry can mend (the secret cannot be read, the event is gone).
    permanent: bool,
}

impl Attempt {
    /// No answer from the endpoint: a transport error, or a `permanent` failure on our side.
    fn unanswered(error: String, permanent: bool) -> Attempt {
        Attempt {
            response_status: None,
            error: Some(error),
            permanent,
        }
    }
}

async fn deliver(state: &AppState, client: &reqwest::Client, delivery: &WebhookDeliveryRecord) {
    let attempt = match post(state, client, delivery).await {
        Ok(attempt) => attempt,
        Err(StoreError::NotFound(_)) => return, // the webhook was deleted meanwhile
        Err(err) => Attempt::unanswered(err.to_string(), false),
    };
    let now = state.clock.now_ms();
    let outcome = match &attempt.error {
        None => DeliveryOutcome::Delivered {
            response_status: attempt.response_status.unwrap_or(200),
        },
        Some(error) if attempt.permanent || delivery.attempts >= MAX_ATTEMPTS => {
            tracing::warn!(webhook = %delivery.webhook_id, seq = delivery.seq, %error, "webhook delivery failed for good");
            DeliveryOutcome::GaveUp {
                response_status: attempt.response_status,
                error,
            }
        }
        Some(error) => {
            tracing::info!(webhook = %delivery.webhook_id, seq = delivery.seq, %error, attempts = delivery.attempts, "webhook delivery failed; will retry");
            DeliveryOutcome::RetryAt {
                at: now + backoff_ms(delivery.attempts),
                response_status: attempt.response_status,
                error,
            }
        }
    };
    if let Err(err) = state
        .store
        .finish_webhook_attempt(delivery, outcome, now)
        .await
    {
        tracing::error!(error = %err, webhook = %delivery.webhook_id, "webhooks: could not record an outcome");
    }
}

async fn post(
    state: &AppState,
    client: &reqwest::Client,
    delivery: &WebhookDeliveryRecord,
) -> Result<Attempt, StoreError> {
    let webhook = state.store.webhook_by_id(&delivery.webhook_id).await?;
    let Some(event) = state
        .store
        .event(&delivery.workspace_id, delivery.seq)
        .await?
    else {
        let gone = "the event is no longer in the log".to_owned();
        return Ok(Attempt::unanswered(gone, true));
    };
    let secret = match crate::crypto::decrypt(&state.secret_key, &webhook.secret) {
        Ok(secret) => secret,
        Err(err) => return Ok(Attempt::unanswered(err.to_string(), true)),
    };
    // A host name is checked as it is resolved ([`PublicOnly`]); an address, here.
    if !state.config.webhooks_allow_local
        && let Some(ip) = reqwest::Url::parse(&webhook.url)
            .ok()
            .as_ref()
            .and_then(literal_local_address)
    {
        return Ok(Attempt::unanswered(local_refusal(&ip.to_string()), true));
    }
    let timestamp = state.clock.now_ms() / 1000;
    let body = event.payload.into_bytes();
    let sent = client
        .post(&webhook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, &delivery.kind)
        .header(
            DELIVERY_HEADER,
            format!("{}.{}", delivery.webhook_id, delivery.seq),
        )
        .header(TIMESTAMP_HEADER, timestamp)
        .header(SIGNATURE_HEADER, signature(&secret, timestamp, &body))
        .body(body)
        .send()
        .await;
    Ok(match sent {
        Ok(response) => {
            let status = response.status();
            Attempt {
                response_status: Some(i64::from(status.as_u16())),
                error: (!status.is_success()).then(|| format!("the endpoint answered {status}")),
                permanent: false,
            }
        }
        Err(err) => Attempt::unanswered(describe(&err), false),
    })
}

/// Resolves endpoint host names to their public addresses only (see [`is_public`]), so a
/// name that points at this machine or its network is not delivered to — checked at each
/// connection, so a name cannot pass a check and then be pointed elsewhere.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if public.is_empty() {
                return Err(Box::new(LocalOnly(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A client for addresses a workspace names (webhook endpoints, web pages to import) as the
/// instance allows: unless `allow_local`, a host name is reached only at its public addresses,
/// checked at each connection. (A literal address in a URL never meets the resolver: callers
/// check it with `literal_local_address`, at every redirect too.)
pub(crate) fn public_only(
    client: reqwest::ClientBuilder,
    allow_local: bool,
) -> reqwest::ClientBuilder {
    if allow_local {
        return client;
    }
    // Through a proxy from the environment, the proxy would resolve the name and the check
    // would never see it.
    client
        .dns_resolver(std::sync::Arc::new(PublicOnly))
        .no_proxy()
}

/// An endpoint that is only on this machine or its private network.
#[derive(Debug, thiserror::Error)]
#[error("{}", local_refusal(.0))]
pub(crate) struct LocalOnly(pub(crate) String);

/// A transport error in a few words, without reqwest's nesting.
fn describe(err: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if let Some(local) = cause.downcast_ref::<LocalOnly>() {
            return local.to_string();
        }
        source = cause.source();
    }
    if err.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        err.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"type":"x"}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"type":"x"}"#),
            "sha256=29cc951fc439d64c216bbea1a7361669bacc196ec2ea452cfa008c48a61829ad"
        );
        assert_ne!(
            signature("whsec_test", 1_700_000_001, br#"{"type":"x"}"#),
            signature("whsec_test", 1_700_000_000, br#"{"type":"x"}"#)
        );
    }
}
