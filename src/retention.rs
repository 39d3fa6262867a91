//! Retention: a workspace may keep customers' data for a set number of days (Settings →
//! Customers, `PUT /api/v1/settings/retention`). Once a customer has been idle that long —
//! no message, no handoff change — and has no handoff open, everything kept about them is
//! erased exactly as an admin's erase does it, `contact.erased` event included. Every node
//! sweeps hourly; the workspace lock makes two nodes' sweeps erase each customer once.

use std::time::Duration;

use crate::domain::settings::RetentionSettings;
use crate::http::api::settings::RETENTION;
use crate::state::AppState;
use crate::store::StoreError;

/// How often the sweep runs when nothing wakes it: retention is counted in days.
const SWEEP: Duration = Duration::from_secs(3600);

/// Customers erased per pass; a longer backlog is worked through pass after pass.
const BATCH: usize = 100;

/// Starts the sweep; it stops with the server.
pub fn spawn(state: &AppState) {
    crate::channels::run_worker(
        state,
        "retention",
        state.retention_wake.clone(),
        SWEEP,
        |state| async move { run_due(&state).await },
    );
}

/// Erases up to [`BATCH`] customers whose workspace's retention period has run out; answers
/// how many. Also drops WhatsApp reports held past their time (see `Store::hold_status`).
pub async fn run_due(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now_ms();
    // WhatsApp reports held for a send that was never recorded (a wamid names its recipient).
    state.store.drop_stale_held_statuses(now).await?;
    let mut erased = 0;
    for (workspace_id, json) in state.store.settings_named(RETENTION).await? {
        let before = match serde_json::from_str::<RetentionSettings>(&json) {
            Ok(settings) => settings.erase_before(now),
            Err(err) => {
                tracing::warn!(workspace = %workspace_id, error = %err, "retention: unreadable settings");
                None
            }
        };
        let Some(before) = before else { continue };
        let stale = state
            .store
            .stale_contacts(&workspace_id, before, (BATCH - erased) as i64)
            .await?;
        let mut here = 0;
        for contact_id in stale {
            match state
                .store
                .erase_contact_if_idle(&workspace_id, &contact_id, before, now)
                .await
            {
                Ok(_) => here += 1,
                // Active again since, or erased by another node or an admin meanwhile.
                Err(StoreError::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
        erased += here;
        if here > 0 {
            tracing::info!(workspace = %workspace_id, erased = here, "retention: erased customers idle past the retention period");
        }
        if erased >= BATCH {
            break;
        }
    }
    Ok(erased)
}
