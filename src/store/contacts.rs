//! Customers as records an admin looks up: the list, searched by name, number or id, and
//! those whose data has outlived the workspace's retention period.

use sqlx::FromRow;

use super::search::{contains_pattern, like_anywhere};
use super::{Store, StoreResult};
use crate::domain::text::search_fold;

/// A customer as the list shows them.
#[derive(Debug, Clone, FromRow)]
pub struct ContactSummary {
    pub id: String,
    pub channel: String,
    pub name: String,
    pub phone: Option<String>,
    pub created_at: i64,
    /// Their latest message, from anyone, in any conversation; when they have none, the time
    /// they were first seen (or last wrote on WhatsApp).
    pub last_active_at: i64,
    pub conversations: i64,
    /// A handoff still pending or in progress, if there is one.
    pub open_handoff_id: Option<String>,
}

/// Which customers to list: newest activity first, `limit` at a time.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    /// Part of a name, a phone number or a channel id, any case; or a whole contact id.
    pub query: Option<String>,
    pub limit: i64,
    /// The page after this place (the last customer of the previous page).
    pub after: Option<ContactCursor>,
}

/// A place in the list: a customer's last activity and id, as the previous page saw them. The
/// place stays put when that customer writes again (they move to the first page), so pages
/// never repeat and never loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCursor {
    pub last_active_at: i64,
    pub id: String,
}

impl ContactCursor {
    pub fn after(contact: &ContactSummary) -> Self {
        ContactCursor {
            last_active_at: contact.last_active_at,
            id: contact.id.clone(),
        }
    }

    /// As `Display` writes it: `<last_active_at>.<id>`.
    pub fn parse(text: &str) -> Option<Self> {
        let (at, id) = text.split_once('.')?;
        Some(ContactCursor {
            last_active_at: at.parse().ok()?,
            id: Some(id).filter(|id| !id.is_empty())?.to_owned(),
        })
    }
}

impl std::fmt::Display for ContactCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.last_active_at, self.id)
    }
}

/// No conversation of `contacts ct` has a handoff open.
pub(super) const NONE_OPEN: &str = "NOT EXISTS (SELECT 1 FROM conversations c \
    WHERE c.contact_id = ct.id AND c.active_handoff_id IS NOT NULL)";

/// What the search compares a contact's name and channel id with: both folded
/// ([`search_fold`]), one to a line.
pub(super) fn search_text(name: &str, external_id: &str) -> String {
    format!("{}\n{}", search_fold(name), search_fold(external_id))
}

impl Store {
    /// Writes the search text of contacts stored before it existed (migration 0016) or by an
    /// older node since, a batch at a time.
    pub(super) async fn fill_contact_search(&self) -> StoreResult<()> {
        // In id order, a batch after the last: every row is read once, and two nodes starting
        // together lock rows in the same order.
        let mut last = String::new();
        loop {
            let missing: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, name, external_id FROM contacts \
                 WHERE search_text IS NULL AND id > $1 ORDER BY id LIMIT 500",
            )
            .bind(&last)
            .fetch_all(self.pool())
            .await?;
            let Some((id, ..)) = missing.last() else {
                return Ok(());
            };
            last = id.clone();
            let mut tx = self.pool().begin().await?;
            for (id, name, external_id) in missing {
                sqlx::query("UPDATE contacts SET search_text = $1 WHERE id = $2")
                    .bind(search_text(&name, &external_id))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }

    /// One page of the workspace's customers, most recently active first.
    pub async fn list_contacts(
        &self,
        workspace_id: &str,
        filter: &ContactFilter,
    ) -> StoreResult<Vec<ContactSummary>> {
        let (after_at, after_id) = filter
            .after
            .as_ref()
            .map_or((0, ""), |c| (c.last_active_at, c.id.as_str()));
        let query = filter.query.as_deref().map(str::trim).unwrap_or_default();
        // A number is stored as +4915112345678; "+49 151 1234-5678" should find it.
        let digits: String = query
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let text = contains_pattern(query);
        // Rows an older node wrote have no search text yet: matched as SQL lower-cases.
        let lowered = like_anywhere(&query.to_lowercase());
        let phone = Some(digits.as_str())
            .filter(|d| !d.is_empty())
            .map(like_anywhere)
            .unwrap_or_default();
        Ok(sqlx::query_as(
            "SELECT ct.id, ct.channel, ct.name, ct.phone, ct.created_at, ct.last_active_at, \
             (SELECT COUNT(*) FROM conversations c WHERE c.contact_id = ct.id) AS conversations, \
             (SELECT MAX(c.active_handoff_id) FROM conversations c \
              WHERE c.contact_id = ct.id) AS open_handoff_id \
             FROM contacts ct WHERE ct.workspace_id = $1 AND ($4 = '' \
             OR ct.search_text LIKE $2 ESCAPE '\\' OR (ct.search_text IS NULL \
              AND (LOWER(ct.name) LIKE $8 ESCAPE '\\' OR LOWER(ct.external_id) LIKE $8 ESCAPE '\\')) \
             OR ($3 <> '' AND ct.phone LIKE $3 ESCAPE '\\') OR ct.id = $4) \
             AND ($5 = '' OR ct.last_active_at < $6 \
              OR (ct.last_active_at = $6 AND ct.id < $5)) \
             ORDER BY ct.last_active_at DESC, ct.id DESC LIMIT $7",
        )
        .bind(workspace_id)
        .bind(text)
        .bind(phone)
        .bind(query)
        .bind(after_id)
        .bind(after_at)
        .bind(filter.limit)
        .bind(lowered)
        .fetch_all(self.pool())
        .await?)
    }

    /// The workspace's customers last active before `before` with no handoff open, oldest
    /// first, at most `limit`: those a retention period has run out for.
    pub async fn stale_contacts(
        &self,
        workspace_id: &str,
        before: i64,
        limit: i64,
    ) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT ct.id FROM contacts ct WHERE ct.workspace_id = $1 \
             AND ct.last_active_at < $2 AND {NONE_OPEN} \
             ORDER BY ct.last_active_at, ct.id LIMIT $3"
        ))
        .bind(workspace_id)
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::ContactCursor;

    #[test]
    fn a_place_in_the_list_reads_back_as_written() {
        let cursor = ContactCursor {
            last_active_at: 1_732_500_000_000,
            id: "cus_1a.b".into(),
        };
        assert_eq!(cursor.to_string(), "1732500000000.cus_1a.b");
        assert_eq!(ContactCursor::parse(&cursor.to_string()), Some(cursor));
        for wrong in ["", "cus_1", "x.cus_1", "17.", ".cus_1"] {
            assert_eq!(ContactCursor::parse(wrong), None, "{wrong}");
        }
    }
}
