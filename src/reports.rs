//! Reports: how the bot and the team did over a span of time — how many conversations the bot
//! handled alone, how long customers waited for a person (to be claimed, to hear from them,
//! to be resolved), who answered, and the questions the knowledge base had no answer for, so
//! an admin knows what to write next.
//!
//! A handoff belongs to the span it was opened in, whatever happened to it later; waits are
//! given as the median and the 90th percentile (nearest rank: "half were claimed within …"),
//! over the handoffs that got that far.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate};
use serde::Serialize;

use crate::domain::clock::rfc3339;
use crate::domain::text::search_fold;
use crate::store::{HandoffFacts, RatingFacts, Span, Store, StoreResult};

const DAY_MS: i64 = 86_400_000;

/// The span a report covers unless it says otherwise: the last 30 days.
pub const DEFAULT_DAYS: i64 = 30;

/// The longest span one report covers.
pub const MAX_DAYS: i64 = 366;

/// How many unanswered questions a report lists.
pub const QUESTIONS: usize = 20;

/// How much of a question a report quotes.
const QUESTION_CHARS: usize = 300;

/// How many answers to the Satisfaction Survey a report lists.
pub const FEEDBACK: usize = 20;

/// The span asked for: `from` and `to` as dates (`2026-11-01`, read in UTC; `to` includes
/// its whole day) or RFC 3339 instants, or `days` back from `to` (default now).
pub fn span(
    from: Option<&str>,
    to: Option<&str>,
    days: Option<i64>,
    bot_id: Option<String>,
    now_ms: i64,
) -> Result<Span, String> {
    let to_ms = match to.filter(|t| !t.trim().is_empty()) {
        Some(to) => instant(to, true).map_err(|e| format!("to: {e}"))?,
        None => now_ms,
    };
    let from_ms = match (from.filter(|f| !f.trim().is_empty()), days) {
        (Some(_), Some(_)) => return Err("give either from or days, not both".into()),
        (Some(from), None) => instant(from, false).map_err(|e| format!("from: {e}"))?,
        (None, Some(days)) if (1..=MAX_DAYS).contains(&days) => to_ms - days * DAY_MS,
        (None, Some(_)) => return Err(format!("days: must be 1 to {MAX_DAYS}")),
        (None, None) => to_ms - DEFAULT_DAYS * DAY_MS,
    };
    if from_ms >= to_ms {
        return Err("from must be before to".into());
    }
    if to_ms - from_ms > MAX_DAYS * DAY_MS {
        return Err(format!("a report covers at most {MAX_DAYS} days"));
    }
    Ok(Span {
        from_ms,
        to_ms,
        bot_id,
    })
}

/// A date (its start, or with `end` the start of the next day) or an RFC 3339 instant.
fn instant(text: &str, end: bool) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let date = if end { date.succ_opt() } else { Some(date) };
        return date
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
            .ok_or_else(|| format!("{text:?} is out of range"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("{text:?} is neither a date (2026-11-01) nor an RFC 3339 time"))
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub bot_id: Option<String>,
    pub conversations: Conversations,
    pub messages: Messages,
    pub handoffs: Handoffs,
    /// Everyone in the workspace, busiest first.
    pub people: Vec<Person>,
    /// What customers asked that the knowledge base had no answer for, most asked first.
    pub unanswered: Vec<Question>,
    /// How customers rated the team's help in the span's handoffs.
    pub satisfaction: Satisfaction,
    /// The answers given in the span to follow up — short of Great, or with a comment —
    /// newest first, at most [`FEEDBACK`] (whenever their handoff was opened).
    pub feedback: Vec<Feedback>,
    /// The span's handoffs as the team lived them, when business hours are on; `null` when
    /// they are off.
    pub business_hours: Option<InBusinessHours>,
}

/// Handoffs measured by business hours — the hours as they are set now, applied to the whole
/// span.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct InBusinessHours {
    /// Opened while the team was away.
    pub opened_after_hours: i64,
    /// The waits counting only the time the team was at work: a handoff opened on Friday
    /// evening and answered first thing on Monday waited minutes, not days.
    pub time_to_claim: Waits,
    pub time_to_first_reply: Waits,
    pub time_to_resolve: Waits,
}

/// A customer's answer to the Satisfaction Survey worth reading.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Feedback {
    pub handoff_id: String,
    pub score: String,
    pub comment: Option<String>,
    /// Who held the handoff when it was resolved.
    pub agent_name: String,
    pub rated_at: String,
    #[serde(skip)]
    pub rated_ms: i64,
}

impl From<RatingFacts> for Feedback {
    fn from(r: RatingFacts) -> Self {
        Feedback {
            handoff_id: r.handoff_id,
            score: r.score,
            comment: r.comment,
            agent_name: r.agent_name,
            rated_at: rfc3339(r.rated_at),
            rated_ms: r.rated_at,
        }
    }
}

/// Conversations a customer wrote in during the span.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Conversations {
    pub active: i64,
    /// Those with people at some point of the span (a handoff open then, whenever opened).
    pub handed_off: i64,
    /// Those the bot handled alone.
    pub bot_only: i64,
    /// `bot_only / active`, absent when there were none.
    pub bot_only_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Messages {
    pub customer: i64,
    pub bot: i64,
    pub agent: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Handoffs {
    pub opened: i64,
    pub customer_request: i64,
    pub kb_miss: i64,
    pub bot_error: i64,
    /// Where the span's handoffs stand now.
    pub pending: i64,
    pub in_progress: i64,
    pub resolved: i64,
    /// From opening to the current holder's claim.
    pub time_to_claim: Waits,
    /// From opening to a person's first reply.
    pub time_to_first_reply: Waits,
    /// From opening to resolving.
    pub time_to_resolve: Waits,
}

/// How long a number of handoffs waited for something, in whole seconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Waits {
    pub count: usize,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
    /// The span's handoffs still open that have not got that far yet: their waits are not
    /// in the figures above, and are the longest of all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub still_waiting: Option<usize>,
}

impl Waits {
    fn of(mut waits_ms: Vec<i64>) -> Waits {
        waits_ms.sort_unstable();
        let rank = |percent: usize| -> Option<i64> {
            // Nearest rank: the smallest wait at least `percent` of them are within.
            let at = (waits_ms.len() * percent).div_ceil(100).max(1) - 1;
            waits_ms.get(at).map(|ms| ((*ms).max(0) + 500) / 1000)
        };
        Waits {
            count: waits_ms.len(),
            median_seconds: rank(50),
            p90_seconds: rank(90),
            still_waiting: None,
        }
    }
}

/// One member of the workspace and what they did with the span's handoffs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Person {
    pub user_id: String,
    pub name: String,
    pub role: String,
    /// Handoffs of the span they hold or held when it was resolved.
    pub claimed: i64,
    pub resolved: i64,
    /// Replies they sent customers during the span.
    pub replies: i64,
    /// Handoffs of the span they were the first to answer, and how long those waited.
    pub first_replies: Waits,
    /// How customers rated the handoffs of the span they held when resolving them.
    pub satisfaction: Satisfaction,
}

/// How customers rated the help they got (the Satisfaction Survey tool).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Satisfaction {
    /// Handoffs whose customer was asked.
    pub asked: i64,
    /// Those who answered, and how.
    pub rated: i64,
    pub great: i64,
    pub okay: i64,
    pub poor: i64,
    /// The CSAT score: `great / rated`, absent when no one answered.
    pub score: Option<f64>,
    /// `rated / asked`, absent when no one was asked.
    pub response_rate: Option<f64>,
}

impl Satisfaction {
    fn of<'a>(handoffs: impl Iterator<Item = &'a HandoffFacts>) -> Satisfaction {
        let mut tally = Satisfaction::default();
        for handoff in handoffs.filter(|h| h.rating_asked_at.is_some()) {
            tally.asked += 1;
            match handoff.rating.as_deref() {
                Some("great") => tally.great += 1,
                Some("okay") => tally.okay += 1,
                Some("poor") => tally.poor += 1,
                _ => continue,
            }
            tally.rated += 1;
        }
        let share = |part: i64, whole: i64| (whole > 0).then(|| part as f64 / whole as f64);
        Satisfaction {
            score: share(tally.great, tally.rated),
            response_rate: share(tally.rated, tally.asked),
            ..tally
        }
    }
}

/// A question the bot could not answer from the knowledge base (it handed the conversation
/// over as `kb_miss`), with how often it was asked in the span.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Question {
    pub text: String,
    pub count: usize,
    pub last_asked_at: String,
    #[serde(skip)]
    pub last_asked_ms: i64,
    /// The latest handoff it led to.
    pub handoff_id: String,
}

/// The report of one workspace over `span`.
pub async fn build(store: &Store, workspace_id: &str, span: &Span) -> StoreResult<Report> {
    let handoffs = store.handoffs_opened(workspace_id, span).await?;
    let counts = store.conversation_counts(workspace_id, span).await?;
    let authors = store.messages_by_author(workspace_id, span).await?;
    let replies = store.replies_by_person(workspace_id, span).await?;
    let users = store.list_users(workspace_id).await?;
    let written = |author: &str| {
        authors
            .iter()
            .find(|(a, _)| a == author)
            .map_or(0, |(_, n)| *n)
    };
    let mut people: Vec<Person> = users
        .iter()
        .map(|user| {
            let mine = |who: fn(&HandoffFacts) -> Option<&str>| {
                handoffs
                    .iter()
                    .filter(|h| who(h) == Some(user.id.as_str()))
                    .count() as i64
            };
            Person {
                user_id: user.id.clone(),
                name: user.name.clone(),
                role: user.role.clone(),
                claimed: mine(|h| h.claimed_by.as_deref()),
                resolved: mine(|h| h.resolved_by.as_deref()),
                replies: replies
                    .iter()
                    .find(|r| r.user_id == user.id)
                    .map_or(0, |r| r.replies),
                first_replies: Waits::of(
                    handoffs
                        .iter()
                        .filter(|h| h.first_reply_by.as_deref() == Some(user.id.as_str()))
                        .filter_map(|h| waited(h.created_at, h.first_reply_at))
                        .collect(),
                ),
                satisfaction: Satisfaction::of(
                    handoffs
                        .iter()
                        .filter(|h| h.rated_agent.as_deref() == Some(user.id.as_str())),
                ),
            }
        })
        .collect();
    people.sort_by(|a, b| {
        (b.replies, b.claimed, b.resolved)
            .cmp(&(a.replies, a.claimed, a.resolved))
            .then_with(|| a.name.cmp(&b.name))
    });
    // How long each handoff waited until `at`, measured by `length` (the clock's, or business
    // hours').
    let waits = |at: fn(&HandoffFacts) -> Option<i64>, length: &dyn Fn(i64, i64) -> i64| Waits {
        still_waiting: Some(
            handoffs
                .iter()
                .filter(|h| at(h).is_none() && h.status != "resolved")
                .count(),
        ),
        ..Waits::of(
            handoffs
                .iter()
                .filter_map(|h| at(h).map(|to| length(h.created_at, to)))
                .collect(),
        )
    };
    let clock = |from: i64, to: i64| to - from;
    let schedule = store.business_hours(workspace_id).await?.schedule();
    let business_hours = schedule.map(|schedule| {
        // The open spans from the first handoff's opening to the last thing that happened to
        // any, unrolled once.
        let first = handoffs
            .iter()
            .map(|h| h.created_at)
            .min()
            .unwrap_or(span.from_ms);
        let last = handoffs
            .iter()
            .flat_map(|h| [h.claimed_at, h.first_reply_at, h.resolved_at])
            .flatten()
            .max()
            .map_or(first, |last| last.max(first));
        let timeline = schedule.timeline(first, last);
        let open = |from: i64, to: i64| timeline.open_ms_between(from, to);
        InBusinessHours {
            opened_after_hours: handoffs
                .iter()
                .filter(|h| !timeline.is_open(h.created_at))
                .count() as i64,
            time_to_claim: waits(|h| h.claimed_at, &open),
            time_to_first_reply: waits(|h| h.first_reply_at, &open),
            time_to_resolve: waits(|h| h.resolved_at, &open),
        }
    });
    let tally = |field: fn(&HandoffFacts) -> &str, value: &str| {
        handoffs.iter().filter(|h| field(h) == value).count() as i64
    };
    Ok(Report {
        from: rfc3339(span.from_ms),
        to: rfc3339(span.to_ms),
        bot_id: span.bot_id.clone(),
        conversations: Conversations {
            active: counts.active,
            handed_off: counts.handed_off,
            bot_only: counts.active - counts.handed_off,
            bot_only_rate: (counts.active > 0)
                .then(|| (counts.active - counts.handed_off) as f64 / counts.active as f64),
        },
        messages: Messages {
            customer: written("customer"),
            bot: written("bot"),
            agent: written("agent"),
        },
        handoffs: Handoffs {
            opened: handoffs.len() as i64,
            customer_request: tally(|h| h.reason.as_str(), "customer_request"),
            kb_miss: tally(|h| h.reason.as_str(), "kb_miss"),
            bot_error: tally(|h| h.reason.as_str(), "bot_error"),
            pending: tally(|h| h.status.as_str(), "pending"),
            in_progress: tally(|h| h.status.as_str(), "in_progress"),
            resolved: tally(|h| h.status.as_str(), "resolved"),
            time_to_claim: waits(|h| h.claimed_at, &clock),
            time_to_first_reply: waits(|h| h.first_reply_at, &clock),
            time_to_resolve: waits(|h| h.resolved_at, &clock),
        },
        people,
        unanswered: unanswered(&handoffs),
        satisfaction: Satisfaction::of(handoffs.iter()),
        feedback: store
            .feedback_given(workspace_id, span, FEEDBACK as i64)
            .await?
            .into_iter()
            .map(Feedback::from)
            .collect(),
        business_hours,
    })
}

fn waited(from_ms: i64, to_ms: Option<i64>) -> Option<i64> {
    to_ms.map(|to| to - from_ms)
}

/// The questions behind the knowledge-base misses, one entry per question however it was
/// cased, accented or punctuated, most asked first, then most recent.
fn unanswered(handoffs: &[HandoffFacts]) -> Vec<Question> {
    let mut questions: Vec<Question> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    // Oldest first, so each entry ends with the latest wording and handoff.
    for handoff in handoffs {
        let Some(text) = handoff.question.as_deref().map(str::trim) else {
            continue;
        };
        let key = question_key(text);
        if key.is_empty() {
            continue;
        }
        let question = Question {
            text: shorten(text),
            count: 1,
            last_asked_at: rfc3339(handoff.created_at),
            last_asked_ms: handoff.created_at,
            handoff_id: handoff.id.clone(),
        };
        match seen.get(&key) {
            Some(&at) => {
                questions[at] = Question {
                    count: questions[at].count + 1,
                    ..question
                }
            }
            None => {
                seen.insert(key, questions.len());
                questions.push(question);
            }
        }
    }
    questions.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| b.last_asked_ms.cmp(&a.last_asked_ms))
    });
    questions.truncate(QUESTIONS);
    questions
}

/// A question as it is compared: folded, its words only.
fn question_key(text: &str) -> String {
    search_fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(QUESTION_CHARS) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_owned(),
    }
}

/// "45 s", "4 min", "1 h 20 min", "2 d 3 h": a wait, as a person reads it.
pub fn wait_text(seconds: i64) -> String {
    let minutes = seconds / 60;
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{minutes} min"),
        s if s < 2 * 86_400 => match minutes % 60 {
            0 => format!("{} h", minutes / 60),
            m => format!("{} h {m} min", minutes / 60),
        },
        _ => match (minutes / 60) % 24 {
            0 => format!("{} d", minutes / (24 * 60)),
            h => format!("{} d {h} h", minutes / (24 * 60)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    #[test]
    fn a_span_is_the_last_thirty_days_unless_asked() {
        let span = span(None, None, None, None, NOW).unwrap();
        assert_eq!((span.from_ms, span.to_ms), (NOW - 30 * DAY_MS, NOW));
        let span = super::span(None, None, Some(7), Some("bot_1".into()), NOW).unwrap();
        assert_eq!(span.from_ms, NOW - 7 * DAY_MS);
        assert_eq!(span.bot_id.as_deref(), Some("bot_1"));
    }

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        let span = span(Some("2026-11-01"), Some("2026-11-30"), None, None, NOW).unwrap();
        assert_eq!(rfc3339(span.from_ms), "2026-11-01T00:00:00.000Z");
        assert_eq!(rfc3339(span.to_ms), "2026-12-01T00:00:00.000Z");
        let span = super::span(
            Some("2026-11-01T09:00:00+02:00"),
            Some("2026-11-01T17:30:00Z"),
            None,
            None,
            NOW,
        )
        .unwrap();
        assert_eq!(rfc3339(span.from_ms), "2026-11-01T07:00:00.000Z");
        assert_eq!(rfc3339(span.to_ms), "2026-11-01T17:30:00.000Z");
    }

    #[test]
    fn a_span_that_makes_no_sense_is_refused_with_the_reason() {
        let refused = |from: Option<&str>, to: Option<&str>, days: Option<i64>| {
            span(from, to, days, None, NOW).unwrap_err()
        };
        assert!(refused(Some("yesterday"), None, None).starts_with("from: "));
        assert!(refused(None, Some("2026-13-01"), None).starts_with("to: "));
        assert_eq!(
            refused(Some("2026-11-02"), Some("2026-11-01"), None),
            "from must be before to"
        );
        assert_eq!(
            refused(Some("2024-01-01"), Some("2026-01-01"), None),
            "a report covers at most 366 days"
        );
        assert_eq!(refused(None, None, Some(0)), "days: must be 1 to 366");
        assert_eq!(
            refused(Some("2026-11-01"), None, Some(3)),
            "give either from or days, not both"
        );
    }

    #[test]
    fn waits_are_nearest_rank_percentiles_in_seconds() {
        assert_eq!(Waits::of(vec![]), Waits::default());
        let waits = Waits::of(vec![9_000, 1_000, 4_400, 2_600, 60_000]);
        assert_eq!(waits.count, 5);
        // Three of five within 4.4 s; all five within a minute.
        assert_eq!(waits.median_seconds, Some(4));
        assert_eq!(waits.p90_seconds, Some(60));
        let ten: Vec<i64> = (1..=10).map(|s| s * 1000).collect();
        assert_eq!(Waits::of(ten).p90_seconds, Some(9));
    }

    fn miss(id: &str, at: i64, question: &str) -> HandoffFacts {
        HandoffFacts {
            id: id.into(),
            reason: "kb_miss".into(),
            status: "pending".into(),
            created_at: at,
            claimed_at: None,
            claimed_by: None,
            resolved_at: None,
            resolved_by: None,
            first_reply_at: None,
            first_reply_by: None,
            question: Some(question.into()),
            rating_asked_at: None,
            rated_agent: None,
            rating: None,
        }
    }

    #[test]
    fn satisfaction_is_the_share_of_great_among_answers() {
        let rated = |id: &str, score: Option<&str>| HandoffFacts {
            rating_asked_at: Some(1),
            rating: score.map(str::to_owned),
            ..miss(id, 1, "?")
        };
        let handoffs = [
            rated("h1", Some("great")),
            rated("h2", Some("great")),
            rated("h3", Some("poor")),
            rated("h4", Some("okay")),
            rated("h5", None),
            miss("h6", 1, "never asked"),
        ];
        let tally = Satisfaction::of(handoffs.iter());
        assert_eq!((tally.asked, tally.rated), (5, 4));
        assert_eq!((tally.great, tally.okay, tally.poor), (2, 1, 1));
        assert_eq!(tally.score, Some(0.5));
        assert_eq!(tally.response_rate, Some(0.8));
        assert_eq!(Satisfaction::of([miss("h7", 1, "?")].iter()).score, None);
    }

    #[test]
    fn the_same_question_however_written_is_counted_once() {
        let questions = unanswered(&[
            miss("h1", 1, "Do you ship to Canada?"),
            miss("h2", 2, "Can I pay with PayPal?"),
            miss("h3", 3, "do you ship to CANADA"),
            miss("h4", 4, "  "),
            miss("h5", 5, "¿Envían a México?"),
            miss("h6", 6, "envian a mexico"),
            miss("h7", 7, "Do you ship to canada ?"),
        ]);
        let listed: Vec<(&str, usize, &str)> = questions
            .iter()
            .map(|q| (q.text.as_str(), q.count, q.handoff_id.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                ("Do you ship to canada ?", 3, "h7"),
                ("envian a mexico", 2, "h6"),
                ("Can I pay with PayPal?", 1, "h2"),
            ]
        );
    }

    #[test]
    fn a_long_question_is_cut_at_a_character() {
        let question = "é".repeat(QUESTION_CHARS + 10);
        let text = &unanswered(&[miss("h1", 1, &question)])[0].text;
        assert_eq!(text.chars().count(), QUESTION_CHARS + 1);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(wait_text(45), "45 s");
        assert_eq!(wait_text(4 * 60 + 59), "4 min");
        assert_eq!(wait_text(3600), "1 h");
        assert_eq!(wait_text(80 * 60), "1 h 20 min");
        assert_eq!(wait_text(47 * 3600), "47 h");
        assert_eq!(wait_text(51 * 3600), "2 d 3 h");
        assert_eq!(wait_text(3 * 86_400), "3 d");
    }
}
