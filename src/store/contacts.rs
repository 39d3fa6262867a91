//! Customers as records an admin looks up: the list, searched by name, number or id, and
//! those whose data has outlived the workspace's retention period.

use sqlx::FromRow;

use super::{Store, StoreError, StoreResult};

/// A customer as the list shows them.
#[derive(Debug, Clone, FromRow)]
pub struct ContactSummary {
    pub id: String,
    pub channel: String,
    pub name: String,
    pub phone: Option<String>,
    pub created_at: i64,
    /// Their latest message or handoff change in any conversation; when they have none, the
    /// time they were first seen.
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
    /// The page after this contact (the last of the previous page).
    pub after: Option<String>,
}

/// A contact's last activity, as one SQL expression over `contacts ct`.
pub(super) const LAST_ACTIVE: &str = "COALESCE((SELECT MAX(c.updated_at) FROM conversations c \
    WHERE c.contact_id = ct.id), ct.created_at)";

/// No conversation of `contacts ct` has a handoff open.
pub(super) const NONE_OPEN: &str = "NOT EXISTS (SELECT 1 FROM conversations c \
    WHERE c.contact_id = ct.id AND c.active_handoff_id IS NOT NULL)";

/// `text` as a `LIKE … ESCAPE '\'` pattern matching it anywhere, lowercased.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// One page of the workspace's customers, most recently active first.
    pub async fn list_contacts(
        &self,
        workspace_id: &str,
        filter: &ContactFilter,
    ) -> StoreResult<Vec<ContactSummary>> {
        let (after_at, after_id) = match &filter.after {
            Some(id) => {
                let at: Option<i64> = sqlx::query_scalar(&format!(
                    "SELECT {LAST_ACTIVE} FROM contacts ct WHERE ct.workspace_id = $1 AND ct.id = $2"
                ))
                .bind(workspace_id)
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
                (at.ok_or(StoreError::NotFound("contact"))?, id.as_str())
            }
            None => (0, ""),
        };
        let query = filter.query.as_deref().map(str::trim).unwrap_or_default();
        // A number is stored as +4915112345678; "+49 151 1234-5678" should find it.
        let digits: String = query
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let (text, phone) = if query.is_empty() {
            (String::new(), String::new())
        } else {
            (contains_pattern(query), contains_pattern(&digits))
        };
        Ok(sqlx::query_as(&format!(
            "SELECT * FROM (SELECT ct.id, ct.channel, ct.name, ct.phone, ct.created_at, \
             {LAST_ACTIVE} AS last_active_at, \
             (SELECT COUNT(*) FROM conversations c WHERE c.contact_id = ct.id) AS conversations, \
             (SELECT MAX(c.active_handoff_id) FROM conversations c \
              WHERE c.contact_id = ct.id) AS open_handoff_id \
             FROM contacts ct WHERE ct.workspace_id = $1 AND ($2 = '' \
             OR LOWER(ct.name) LIKE $2 ESCAPE '\\' OR LOWER(ct.external_id) LIKE $2 ESCAPE '\\' \
             OR ct.phone LIKE $3 ESCAPE '\\' OR ct.id = $4)) x \
             WHERE ($5 = '' OR x.last_active_at < $6 OR (x.last_active_at = $6 AND x.id < $5)) \
             ORDER BY x.last_active_at DESC, x.id DESC LIMIT $7"
        ))
        .bind(workspace_id)
        .bind(text)
        .bind(phone)
        .bind(query)
        .bind(after_id)
        .bind(after_at)
        .bind(filter.limit)
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
            "SELECT id FROM (SELECT ct.id, {LAST_ACTIVE} AS last_active_at FROM contacts ct \
             WHERE ct.workspace_id = $1 AND {NONE_OPEN}) x \
             WHERE x.last_active_at < $2 ORDER BY x.last_active_at, x.id LIMIT $3"
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
    use super::contains_pattern;

    #[test]
    fn search_text_is_matched_literally_anywhere() {
        assert_eq!(contains_pattern("Ann"), "%ann%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
