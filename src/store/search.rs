//! Searching stored text: the `LIKE` patterns the customer and handoff searches compare with,
//! and the handoff search's conditions. Text is compared as Baton folded it when storing it
//! (`search_text` columns, [`crate::domain::text::search_fold`]), because SQL's `LOWER` folds
//! ASCII only on SQLite, and on PostgreSQL only as far as the database's locale goes.

use std::collections::HashMap;

use sqlx::FromRow;

use super::{Store, StoreResult};
use crate::domain::search::{found, search_text};
use crate::domain::text::search_fold;

/// `text` as a `LIKE … ESCAPE '\\'` pattern matching it anywhere, folded as the search text
/// is (a line break cannot join a name to an id); `None` when nothing is left of it to match.
pub(super) fn contains_pattern(text: &str) -> Option<String> {
    let folded: String = search_fold(text)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    (!folded.is_empty()).then(|| like_anywhere(&folded))
}

/// `text` as a `LIKE … ESCAPE '\\'` pattern matching it anywhere, as it is.
pub(super) fn like_anywhere(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The messages of the conversation of `handoffs h` that belong to that handoff, as `m`: from
/// just after the conversation's previous handoff was resolved (what led to this one) until
/// this one was resolved; notices (`system`) left out. Each message of a conversation belongs
/// to one handoff at most.
const SPAN: &str = "m.conversation_id = h.conversation_id AND m.author <> 'system' \
    AND m.created_at > COALESCE((SELECT MAX(p.resolved_at) FROM handoffs p \
     WHERE p.conversation_id = h.conversation_id AND p.created_at < h.created_at), -1) \
    AND (h.resolved_at IS NULL OR m.created_at <= h.resolved_at)";

/// Message `m` holds the term whose pattern is `$n` (rows an older node wrote have no search
/// text yet: compared as SQL lower-cases).
fn message_holds(n: usize) -> String {
    format!(
        "(m.search_text LIKE ${n} ESCAPE '\\' \
         OR (m.search_text IS NULL AND LOWER(m.text) LIKE ${n} ESCAPE '\\'))"
    )
}

/// For `handoffs h` joined to their customer `contacts ct`: every term, whose patterns
/// ([`term_patterns`]) are bound as `$first` onwards, is in the customer's name or number or
/// in a message of the handoff ([`SPAN`]).
pub(super) fn handoff_has_terms(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| {
            format!(
                " AND (ct.search_text LIKE ${n} ESCAPE '\\' \
                 OR (ct.search_text IS NULL AND LOWER(ct.name) LIKE ${n} ESCAPE '\\') \
                 OR EXISTS (SELECT 1 FROM messages m WHERE {SPAN} AND {}))",
                message_holds(n)
            )
        })
        .collect()
}

/// The terms of a search ([`crate::domain::search::terms`], folded) as patterns to bind.
pub(super) fn term_patterns(terms: &[String]) -> Vec<String> {
    terms.iter().map(|t| like_anywhere(t)).collect()
}

/// The message of a handoff that shows best what a search found.
#[derive(Debug, Clone, FromRow)]
pub struct MessageMatch {
    pub handoff_id: String,
    pub message_id: String,
    pub author: String,
    pub author_name: String,
    pub text: String,
    pub created_at: i64,
}

/// Messages whose search text is filled per pass.
const FILL_BATCH: i64 = 500;

impl Store {
    /// For each of these handoffs of the workspace, its message holding the most of `terms`
    /// (the latest of equals); a handoff found by its customer's name alone has none.
    pub async fn handoff_matches(
        &self,
        workspace_id: &str,
        handoff_ids: &[&str],
        terms: &[String],
    ) -> StoreResult<HashMap<String, MessageMatch>> {
        if handoff_ids.is_empty() || terms.is_empty() {
            return Ok(HashMap::new());
        }
        let patterns = term_patterns(terms);
        let first_id = 2 + patterns.len();
        let any_term = (2..first_id)
            .map(message_holds)
            .collect::<Vec<_>>()
            .join(" OR ");
        let ids = (first_id..first_id + handoff_ids.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT h.id AS handoff_id, m.id AS message_id, m.author, m.author_name, m.text, \
             m.created_at FROM handoffs h JOIN messages m ON m.conversation_id = h.conversation_id \
             WHERE h.workspace_id = $1 AND h.id IN ({ids}) AND {SPAN} AND ({any_term}) \
             ORDER BY m.created_at DESC, m.seq DESC"
        );
        let mut query = sqlx::query_as::<_, MessageMatch>(&sql).bind(workspace_id);
        for pattern in &patterns {
            query = query.bind(pattern);
        }
        for id in handoff_ids {
            query = query.bind(*id);
        }
        let mut best: HashMap<String, (usize, MessageMatch)> = HashMap::new();
        for row in query.fetch_all(self.pool()).await? {
            let holds = found(&row.text, terms);
            match best.get(&row.handoff_id) {
                Some((most, _)) if *most >= holds => {}
                _ => {
                    best.insert(row.handoff_id.clone(), (holds, row));
                }
            }
        }
        Ok(best.into_iter().map(|(id, (_, m))| (id, m)).collect())
    }

    /// Writes the search text of up to [`FILL_BATCH`] messages stored before it existed
    /// (migration 0025) or by an older node since; answers how many.
    pub async fn fill_message_search(&self) -> StoreResult<usize> {
        let missing: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, text FROM messages WHERE search_text IS NULL ORDER BY id LIMIT $1",
        )
        .bind(FILL_BATCH)
        .fetch_all(self.pool())
        .await?;
        let mut tx = self.pool().begin().await?;
        for (id, text) in &missing {
            sqlx::query("UPDATE messages SET search_text = $1 WHERE id = $2")
                .bind(search_text(text))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(missing.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_matched_literally_anywhere() {
        assert_eq!(contains_pattern("Ann").as_deref(), Some("%ann%"));
        assert_eq!(
            contains_pattern("50%_off\\").as_deref(),
            Some("%50\\%\\_off\\\\%")
        );
        assert_eq!(contains_pattern("JOSÉ").as_deref(), Some("%jose%"));
        assert_eq!(contains_pattern("\u{301}\n"), None);
    }

    #[test]
    fn each_term_is_one_more_condition_on_its_own_parameter() {
        let sql = handoff_has_terms(9, 2);
        assert_eq!(sql.matches(" AND (ct.search_text LIKE $9 ").count(), 1);
        assert_eq!(sql.matches("$10").count(), 4);
        assert!(!sql.contains("$11"));
    }
}
