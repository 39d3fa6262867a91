//! Workspace settings as named JSON documents.

use serde::de::DeserializeOwned;

use super::{Store, StoreResult};
use crate::domain::assignment::{self, AssignmentSettings};
use crate::domain::hours::{self, BusinessHours};

impl Store {
    pub async fn setting(&self, workspace_id: &str, name: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT value FROM workspace_settings WHERE workspace_id = $1 AND name = $2",
        )
        .bind(workspace_id)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(value,)| value))
    }

    pub async fn put_setting(
        &self,
        workspace_id: &str,
        name: &str,
        value: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO workspace_settings (workspace_id, name, value, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, name) \
             DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(workspace_id)
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The workspace's business hours; off when never saved. Read on every bot turn and chat
    /// window.
    pub async fn business_hours(&self, workspace_id: &str) -> StoreResult<BusinessHours> {
        self.setting_or_off(workspace_id, hours::SETTING).await
    }

    /// How the workspace hands out handoffs; not automatically when never saved. Read on
    /// every new handoff.
    pub async fn assignment(&self, workspace_id: &str) -> StoreResult<AssignmentSettings> {
        self.setting_or_off(workspace_id, assignment::SETTING).await
    }

    /// A setting that changes what happens on its own, or its default when never saved: one
    /// this version cannot read (written by a newer one) counts as the default, with a
    /// warning, rather than stop what reads it.
    async fn setting_or_off<T: DeserializeOwned + Default>(
        &self,
        workspace_id: &str,
        name: &str,
    ) -> StoreResult<T> {
        let Some(json) = self.setting(workspace_id, name).await? else {
            return Ok(T::default());
        };
        Ok(serde_json::from_str(&json).unwrap_or_else(|err| {
            tracing::warn!(%workspace_id, setting = name, error = %err, "setting cannot be read: treated as off");
            T::default()
        }))
    }

    /// Every workspace's setting of this name, as `(workspace_id, value)`.
    pub async fn settings_named(&self, name: &str) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, value FROM workspace_settings WHERE name = $1 \
             ORDER BY workspace_id",
        )
        .bind(name)
        .fetch_all(self.pool())
        .await?)
    }
}
