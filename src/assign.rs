//! Automatic assignment (Settings → Agents, `PUT /api/v1/settings/assignment`): pending
//! handoffs go to available teammates as [`crate::domain::assignment`] decides, and one given
//! to someone who then left it unanswered and left the dashboard goes to someone else. It runs when
//! something may have made a handoff assignable — a handoff opened or put back in the queue, a
//! holder freed up, someone back from away or opening the dashboard, the setting switched on —
//! and every 30 s on every node besides; the workspace lock makes runs on several nodes at once
//! give each handoff once, and nobody more than the limit.

use std::time::Duration;

use crate::channels::notify;
use crate::domain::assignment::{self, AssignmentSettings};
use crate::state::AppState;
use crate::store::{Assigned, HandoffRecord, StoreError};

/// How often every node looks when nothing wakes it.
const SWEEP: Duration = Duration::from_secs(30);

/// Starts the sweep; it stops with the server. `state.assign_wake` runs it at once.
pub fn spawn(state: &AppState) {
    crate::channels::run_worker(
        state,
        "assignment",
        state.assign_wake.clone(),
        SWEEP,
        |state| async move { sweep(&state).await },
    );
}

/// Assigns what can be assigned in every workspace that assigns automatically; answers how
/// many handoffs were given. One workspace that fails does not hold up the others.
async fn sweep(state: &AppState) -> Result<usize, StoreError> {
    let mut given = 0;
    for (workspace_id, json) in state.store.settings_named(assignment::SETTING).await? {
        match serde_json::from_str::<AssignmentSettings>(&json) {
            Ok(settings) if settings.auto => match assign(state, &workspace_id, &settings).await {
                Ok(handoffs) => given += handoffs.len(),
                Err(err) => {
                    tracing::warn!(workspace = %workspace_id, error = %err, "assignment failed");
                }
            },
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(workspace = %workspace_id, error = %err, "assignment: unreadable settings");
            }
        }
    }
    Ok(given)
}

/// Assigns what can be assigned in one workspace now, if it assigns automatically; answers the
/// handoffs given.
pub async fn workspace(
    state: &AppState,
    workspace_id: &str,
) -> Result<Vec<HandoffRecord>, StoreError> {
    let settings = state.store.assignment(workspace_id).await?;
    if !settings.auto {
        return Ok(Vec::new());
    }
    assign(state, workspace_id, &settings).await
}

/// How recently a member's dashboard must have shown a sign of life for them to count as
/// there, ms.
pub fn presence_ms(state: &AppState) -> i64 {
    let window = state.config.stream_heartbeat * assignment::PRESENCE_BEATS;
    i64::try_from(window.as_millis()).unwrap_or(i64::MAX)
}

async fn assign(
    state: &AppState,
    workspace_id: &str,
    settings: &AssignmentSettings,
) -> Result<Vec<HandoffRecord>, StoreError> {
    let Assigned { taken_back, given } = state
        .store
        .assign_pending(
            workspace_id,
            settings.limit,
            presence_ms(state),
            &state.clock,
        )
        .await?;
    for handoff in &taken_back {
        tracing::info!(handoff_id = %handoff.id, "back in the queue: left unanswered by a holder who left");
    }
    for handoff in &given {
        tracing::info!(handoff_id = %handoff.id, holder = ?handoff.claimed_by, "assigned");
        // Telling them on WhatsApp too; a failure there undoes nothing.
        if let Err(err) = notify::handoff_given(state, handoff, None).await {
            tracing::warn!(error = %err, handoff_id = %handoff.id, "assignment notification not queued");
        }
    }
    if !given.is_empty() || !taken_back.is_empty() {
        // What each customer reads ("Ana joined the conversation.") is on its way on WhatsApp.
        state.outbox_wake.notify_one();
    }
    Ok(given)
}
