//! Automatic assignment: with it on, a new handoff goes straight to a teammate who is
//! available — their dashboard open and not set to away — and holds fewer open handoffs than
//! the workspace's limit: the one holding fewest, and of those the one who was given one
//! longest ago. A handoff nobody can take waits in the queue as before, and is handed out as
//! soon as someone frees up, comes back or opens the dashboard.

use serde::{Deserialize, Serialize};

use super::ParseError;

/// The name the setting is stored under.
pub const SETTING: &str = "assignment";

/// How long a holder may leave a handoff given to them automatically unanswered before, if
/// they are gone from the dashboard, it goes to someone else: five minutes.
pub const UNANSWERED_MS: i64 = 5 * 60 * 1000;

/// How long past the presence window someone must have shown no sign of life for a handoff to
/// be taken from them: two minutes, so that a page reload, a restart or a flaky network
/// never costs anyone a customer.
pub const GONE_MS: i64 = 2 * 60 * 1000;

/// How long after a dashboard's last sign of life its member still counts as there: three
/// missed heartbeats of its event stream.
pub const PRESENCE_BEATS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentSettings {
    /// Hand new handoffs out automatically.
    #[serde(default)]
    pub auto: bool,
    /// The most open handoffs a member is given automatically (claims and transfers may add
    /// more).
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    AssignmentSettings::DEFAULT_LIMIT
}

impl Default for AssignmentSettings {
    fn default() -> Self {
        Self {
            auto: false,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

impl AssignmentSettings {
    pub const DEFAULT_LIMIT: u32 = 5;
    pub const MAX_LIMIT: u32 = 50;

    pub fn validated(self) -> Result<Self, ParseError> {
        if !(1..=Self::MAX_LIMIT).contains(&self.limit) {
            return Err(ParseError::new(
                "limit",
                format!("must be from 1 to {} open handoffs", Self::MAX_LIMIT),
            ));
        }
        Ok(self)
    }
}

/// A member who could be given a handoff, as the assigner sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: String,
    pub name: String,
    /// Handoffs they hold now.
    pub open: i64,
    /// When they were last given one automatically.
    pub assigned_at: Option<i64>,
}

/// Which of `candidates` gets the next handoff: under `limit`, fewest open, then given one
/// longest ago (never first), then by id so every node picks alike — never `except` (whom it
/// was taken from). `None` when nobody can take it.
pub fn pick(candidates: &[Candidate], limit: u32, except: Option<&str>) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.open < i64::from(limit) && Some(c.user_id.as_str()) != except)
        .min_by(|(_, a), (_, b)| {
            (a.open, a.assigned_at, &a.user_id).cmp(&(b.open, b.assigned_at, &b.user_id))
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, open: i64, assigned_at: Option<i64>) -> Candidate {
        Candidate {
            user_id: id.to_owned(),
            name: id.to_owned(),
            open,
            assigned_at,
        }
    }

    #[test]
    fn the_least_busy_member_gets_it_then_whoever_waited_longest() {
        let team = [
            member("b", 1, Some(5)),
            member("a", 0, Some(9)),
            member("c", 0, Some(3)),
        ];
        assert_eq!(
            pick(&team, 5, None),
            Some(2),
            "fewest open, then given one longest ago"
        );
        let team = [member("b", 0, Some(1)), member("a", 0, None)];
        assert_eq!(pick(&team, 5, None), Some(1), "never given one comes first");
        let team = [member("b", 0, None), member("a", 0, None)];
        assert_eq!(
            pick(&team, 5, None),
            Some(1),
            "then by id, alike on every node"
        );
        assert_eq!(
            pick(&team, 5, Some("a")),
            Some(0),
            "never back to whom it was taken from"
        );
        assert_eq!(pick(&team[1..], 5, Some("a")), None);
    }

    #[test]
    fn nobody_is_given_more_than_the_limit() {
        let team = [member("a", 2, None), member("b", 3, None)];
        assert_eq!(pick(&team, 2, None), None);
        assert_eq!(pick(&team, 3, None), Some(0));
        assert_eq!(pick(&[], 3, None), None);
    }

    #[test]
    fn the_limit_is_checked_and_defaults_to_five() {
        let parsed: AssignmentSettings = serde_json::from_str(r#"{"auto": true}"#).unwrap();
        assert_eq!(parsed.limit, 5);
        assert!(parsed.validated().is_ok());
        let limit = |limit| AssignmentSettings { auto: true, limit }.validated();
        assert!(limit(0).is_err());
        assert!(limit(1).is_ok());
        assert!(limit(50).is_ok());
        assert!(limit(51).is_err());
        assert!(serde_json::from_str::<AssignmentSettings>(r#"{"auto": true, "max": 2}"#).is_err());
    }
}
