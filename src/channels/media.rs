//! The media worker: fetches the files customers send on WhatsApp (photos, voice notes,
//! documents) from the Graph API and keeps them, so agents see them beside the message. The
//! webhook only records what to fetch and answers Meta at once; the fetch happens here, on its
//! own loop so a slow download never holds up a reply. Rows are claimed with a lease, so any
//! node may fetch; one that died mid-fetch is fetched again when its lease runs out.

use std::time::Duration;

use super::outbox::number_of;
use super::whatsapp::{self, SendError};
use crate::state::AppState;
use crate::store::{AttachmentRecord, StoreError};

/// Attempts before a file counts as lost: with [`backoff_ms`], about five and a half hours of
/// trying, a long outage's worth (WhatsApp keeps a customer's file for weeks).
const MAX_ATTEMPTS: i64 = 14;

/// Backoff after the n-th failed attempt: 10 s, 20 s, 40 s … capped at an hour.
fn backoff_ms(attempts: i64) -> i64 {
    (5_000i64 << attempts.clamp(1, 10)).min(3_600_000)
}

/// Files claimed at once; fetched one after another.
const BATCH: i64 = 3;
/// Long enough for the whole batch to time out, one by one, on both of its requests.
const LEASE_MS: i64 = BATCH
    * (whatsapp::SEND_TIMEOUT.as_millis() as i64
        + whatsapp::MEDIA_TIMEOUT.as_millis() as i64
        + 10_000);

/// Starts the worker; it stops with the server.
pub fn spawn(state: &AppState) {
    super::run_worker(
        state,
        "media",
        state.media_wake.clone(),
        Duration::from_secs(1),
        |state| async move { run_due(&state).await },
    );
}

/// Fetches every file that is due now; answers how many it tried.
pub async fn run_due(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now_ms();
    let due = state.store.claim_attachments(now, LEASE_MS, BATCH).await?;
    let tried = due.len();
    for attachment in due {
        let outcome = fetch(state, &attachment).await;
        let recorded = match outcome {
            Ok((mime_type, bytes)) => {
                state
                    .store
                    .store_attachment(&attachment, &mime_type, &bytes, state.clock.now_ms())
                    .await
            }
            Err(err) => {
                let again = (err.transient && attachment.attempts < MAX_ATTEMPTS)
                    .then(|| state.clock.now_ms() + backoff_ms(attachment.attempts));
                tracing::warn!(error = %err, attachment = %attachment.id, retry = again.is_some(), "media: could not fetch a file");
                state
                    .store
                    .attachment_failed(&attachment, again, &err.to_string(), state.clock.now_ms())
                    .await
            }
        };
        if let Err(err) = recorded {
            tracing::error!(error = %err, attachment = %attachment.id, "media: could not record a fetch");
        }
    }
    Ok(tried)
}

async fn fetch(
    state: &AppState,
    attachment: &AttachmentRecord,
) -> Result<(String, Vec<u8>), SendError> {
    let (Some(channel_id), Some(media_id)) = (&attachment.channel_id, &attachment.media_id) else {
        return Err(SendError {
            code: None,
            message: "the file has no WhatsApp number and media id to fetch it with".to_owned(),
            transient: false,
        });
    };
    let number = number_of(state, &attachment.workspace_id, channel_id).await?;
    let (mime_type, bytes) = state
        .whatsapp
        .fetch_media(&number, media_id, attachment.sha256.as_deref())
        .await?;
    // The webhook's type is the one WhatsApp checked on upload; the download's is a fallback.
    let mime_type = if attachment.mime_type.is_empty() {
        mime_type
    } else {
        attachment.mime_type.clone()
    };
    Ok((mime_type, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_tried_for_hours_before_it_counts_as_lost() {
        let waited: i64 = (1..MAX_ATTEMPTS).map(backoff_ms).sum();
        assert!(waited > 5 * 3_600_000, "{waited} ms");
        assert_eq!(backoff_ms(1), 10_000);
        assert_eq!(backoff_ms(30), 3_600_000);
    }
}
