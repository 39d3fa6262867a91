//! Integrators' webhook endpoints and their delivery queue. A delivery row is written in the
//! same transaction as the event it carries ([`WorkspaceTx::record`]), so an event that
//! committed is an event that will be posted: none is lost between the log and the queue.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult};
use crate::domain::new_id;
use crate::domain::webhook::{ALL_EVENTS, Subscription};

#[derive(Debug, Clone, FromRow)]
pub struct WebhookRecord {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    /// Encrypted with the instance's secret key.
    pub secret: String,
    pub created_at: i64,
    #[sqlx(skip)]
    pub events: Vec<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct WebhookDeliveryRecord {
    pub webhook_id: String,
    pub workspace_id: String,
    pub seq: i64,
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The HTTP status the endpoint last answered with, if it answered.
    pub response_status: Option<i64>,
    pub last_error: Option<String>,
    pub done_at: Option<i64>,
    pub created_at: i64,
}

/// How an attempt ended, as the queue records it.
pub enum DeliveryOutcome<'a> {
    Delivered {
        response_status: i64,
    },
    RetryAt {
        at: i64,
        response_status: Option<i64>,
        error: &'a str,
    },
    GaveUp {
        response_status: Option<i64>,
        error: &'a str,
    },
}

const WEBHOOK_COLUMNS: &str = "id, workspace_id, url, secret, created_at";
const DELIVERY_COLUMNS: &str = "webhook_id, workspace_id, seq, kind, status, attempts, \
                                next_attempt_at, response_status, last_error, done_at, created_at";

impl Store {
    pub async fn create_webhook(
        &self,
        workspace_id: &str,
        subscription: &Subscription,
        sealed_secret: &str,
        now: i64,
    ) -> StoreResult<WebhookRecord> {
        let mut tx = self.pool().begin().await?;
        count_webhooks(&mut tx, workspace_id, 1).await?;
        let mut webhook: WebhookRecord = sqlx::query_as(&format!(
            "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             RETURNING {WEBHOOK_COLUMNS}"
        ))
        .bind(new_id("whk"))
        .bind(workspace_id)
        .bind(subscription.url.as_str())
        .bind(sealed_secret)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for kind in &subscription.events {
            sqlx::query("INSERT INTO webhook_events (webhook_id, kind) VALUES ($1, $2)")
                .bind(&webhook.id)
                .bind(kind)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        webhook.events = subscription.events.clone();
        Ok(webhook)
    }

    /// A workspace's webhooks, oldest first.
    pub async fn webhooks(&self, workspace_id: &str) -> StoreResult<Vec<WebhookRecord>> {
        let mut webhooks: Vec<WebhookRecord> = sqlx::query_as(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 \
             ORDER BY created_at, id"
        ))
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?;
        let kinds: Vec<(String, String)> = sqlx::query_as(
            "SELECT e.webhook_id, e.kind FROM webhook_events e \
             JOIN webhooks w ON w.id = e.webhook_id WHERE w.workspace_id = $1 ORDER BY e.kind",
        )
        .bind(workspace_id)
        .fetch_all(self.pool())
        .await?;
        for webhook in &mut webhooks {
            webhook.events = kinds
                .iter()
                .filter(|(id, _)| *id == webhook.id)
                .map(|(_, kind)| kind.clone())
                .collect();
        }
        Ok(webhooks)
    }

    /// One webhook of a workspace; another workspace's id is not found.
    pub async fn webhook(&self, workspace_id: &str, id: &str) -> StoreResult<WebhookRecord> {
        self.webhooks(workspace_id)
            .await?
            .into_iter()
            .find(|webhook| webhook.id == id)
            .ok_or(StoreError::NotFound("webhook"))
    }

    /// Removes a webhook with its queue: what was not delivered yet is not sent.
    pub async fn delete_webhook(&self, workspace_id: &str, id: &str) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        count_webhooks(&mut tx, workspace_id, -1).await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        for table in ["webhook_events", "webhook_deliveries"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE webhook_id = $1"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A webhook's latest deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        webhook_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<WebhookDeliveryRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 \
             ORDER BY seq DESC LIMIT $2"
        ))
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Takes up to `limit` due deliveries for `lease_ms`, counting the attempt; rows another
    /// worker holds are skipped, so several nodes can deliver from one queue.
    pub async fn claim_webhook_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<WebhookDeliveryRecord>> {
        Ok(sqlx::query_as(&format!(
            "UPDATE webhook_deliveries SET locked_until = $1, attempts = attempts + 1 \
             WHERE (webhook_id, seq) IN (SELECT webhook_id, seq FROM webhook_deliveries \
                 WHERE done_at IS NULL AND next_attempt_at <= $2 \
                   AND (locked_until IS NULL OR locked_until < $2) \
                 ORDER BY next_attempt_at, seq LIMIT $3) \
               AND done_at IS NULL AND (locked_until IS NULL OR locked_until < $2) \
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Records how an attempt ended and releases the row.
    pub async fn finish_webhook_attempt(
        &self,
        delivery: &WebhookDeliveryRecord,
        outcome: DeliveryOutcome<'_>,
        now: i64,
    ) -> StoreResult<()> {
        let (status, next_attempt_at, done_at, response_status, error) = match outcome {
            DeliveryOutcome::Delivered { response_status } => (
                "delivered",
                delivery.next_attempt_at,
                Some(now),
                Some(response_status),
                None,
            ),
            DeliveryOutcome::RetryAt {
                at,
                response_status,
                error,
            } => ("pending", at, None, response_status, Some(error)),
            DeliveryOutcome::GaveUp {
                response_status,
                error,
            } => (
                "failed",
                delivery.next_attempt_at,
                Some(now),
                response_status,
                Some(error),
            ),
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, done_at = $3, \
             response_status = $4, last_error = $5, locked_until = NULL \
             WHERE webhook_id = $6 AND seq = $7",
        )
        .bind(status)
        .bind(next_attempt_at)
        .bind(done_at)
        .bind(response_status)
        .bind(error)
        .bind(&delivery.webhook_id)
        .bind(delivery.seq)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// When the next delivery can be claimed, if any is waiting: its next attempt, or the end
    /// of the lease a worker (here or on another node) holds on it.
    pub async fn next_webhook_delivery_at(&self) -> StoreResult<Option<i64>> {
        let (next,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(CASE WHEN locked_until > next_attempt_at THEN locked_until \
                 ELSE next_attempt_at END) \
             FROM webhook_deliveries WHERE done_at IS NULL",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(next)
    }

    /// Queues a delivery again from its first attempt (an integrator asking for a resend);
    /// another workspace's webhook, or an event the webhook never followed, is not found.
    pub async fn requeue_webhook_delivery(
        &self,
        workspace_id: &str,
        webhook_id: &str,
        seq: i64,
        now: i64,
    ) -> StoreResult<WebhookDeliveryRecord> {
        let delivery: Option<WebhookDeliveryRecord> = sqlx::query_as(&format!(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1,                  done_at = NULL, locked_until = NULL              WHERE workspace_id = $2 AND webhook_id = $3 AND seq = $4              RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(now)
        .bind(workspace_id)
        .bind(webhook_id)
        .bind(seq)
        .fetch_optional(self.pool())
        .await?;
        let delivery = delivery.ok_or(StoreError::NotFound("delivery"))?;
        self.wake_webhook_worker();
        Ok(delivery)
    }

    /// Wakes this node's webhook worker.
    pub fn wake_webhook_worker(&self) {
        self.webhook_wake.notify_one();
    }

    /// Completes when a commit on this node queued a webhook delivery.
    pub async fn webhook_queued(&self) {
        self.webhook_wake.notified().await;
    }

    /// The webhook a delivery belongs to, with no workspace check: for the delivery worker.
    pub async fn webhook_by_id(&self, id: &str) -> StoreResult<WebhookRecord> {
        sqlx::query_as(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound("webhook"))
    }
}

/// Moves the workspace's webhook count, taking its write lock first (as every event-producing
/// change does), so no event is recorded with a count that is about to change.
async fn count_webhooks(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    by: i64,
) -> StoreResult<()> {
    let done =
        sqlx::query("UPDATE workspaces SET webhook_count = webhook_count + $1 WHERE id = $2")
            .bind(by)
            .bind(workspace_id)
            .execute(conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("workspace"));
    }
    Ok(())
}

/// Queues the event for every webhook of the workspace that follows its type; answers how many.
pub(super) async fn queue_deliveries(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    seq: i64,
    kind: &str,
    now: i64,
) -> StoreResult<u64> {
    let queued = sqlx::query(
        "INSERT INTO webhook_deliveries \
             (webhook_id, workspace_id, seq, kind, status, next_attempt_at, created_at) \
         SELECT w.id, w.workspace_id, $2, $3, 'pending', $4, $4 FROM webhooks w \
         WHERE w.workspace_id = $1 AND EXISTS (SELECT 1 FROM webhook_events e \
             WHERE e.webhook_id = w.id AND (e.kind = $3 OR e.kind = $5))",
    )
    .bind(workspace_id)
    .bind(seq)
    .bind(kind)
    .bind(now)
    .bind(ALL_EVENTS)
    .execute(conn)
    .await?;
    Ok(queued.rows_affected())
}
