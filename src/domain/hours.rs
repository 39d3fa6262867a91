//! Business hours: when the team is at work, in the business's own time zone. Outside them a
//! customer who is handed off is told when the team is back rather than promised a response
//! time nobody is there to keep, the widget says the team is away, and reports measure waits
//! as the team lived them (open hours only) next to the clock's.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ParseError;

/// The name the settings are stored under.
pub const SETTING: &str = "business_hours";

/// What a customer handed off outside business hours is told; `{back}` becomes when the team
/// is back ("on Monday at 09:00 (CET)").
pub const DEFAULT_AWAY: &str =
    "Our team is away right now and back {back}. We'll reply to you as soon as we're back.";

/// The most opening spans one day takes (a morning and an afternoon, a split shift…).
pub const MAX_SPANS: usize = 4;

/// The longest away message, in characters.
pub const MAX_AWAY: usize = 500;

/// The most closed days the settings keep: years of public holidays. Past ones stay, so that
/// reports (which look back 90 days at most) do not count them as time at work.
pub const MAX_CLOSED_DAYS: usize = 366;

const MINUTES_A_DAY: u32 = 24 * 60;

/// Settings → Business hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// Off (the default): the team counts as always there, as before business hours existed.
    #[serde(default)]
    pub enabled: bool,
    /// An IANA time zone name (`Europe/Madrid`); the hours below are read in it, daylight
    /// saving included.
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default = "Week::office")]
    pub week: Week,
    #[serde(default = "away")]
    pub away_message: String,
    /// Whole days the team is closed whatever the week says — public holidays, a team day
    /// out — as local dates `YYYY-MM-DD`, in order. Left out when empty, so that a node from
    /// before closed days (which refuses fields it does not know) still reads the hours of a
    /// workspace that has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed_on: Vec<String>,
}

fn utc() -> String {
    "UTC".to_owned()
}

fn away() -> String {
    DEFAULT_AWAY.to_owned()
}

impl Default for BusinessHours {
    fn default() -> Self {
        BusinessHours {
            enabled: false,
            timezone: utc(),
            week: Week::office(),
            away_message: away(),
            closed_on: Vec::new(),
        }
    }
}

/// The opening spans of each day of the week; a day without any is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Week {
    #[serde(default)]
    pub mon: Vec<Span>,
    #[serde(default)]
    pub tue: Vec<Span>,
    #[serde(default)]
    pub wed: Vec<Span>,
    #[serde(default)]
    pub thu: Vec<Span>,
    #[serde(default)]
    pub fri: Vec<Span>,
    #[serde(default)]
    pub sat: Vec<Span>,
    #[serde(default)]
    pub sun: Vec<Span>,
}

/// From `from` to `to` on one day, as `HH:MM`; `to` may be `24:00` (the end of the day). A
/// night shift is two spans: `22:00–24:00` and `00:00–06:00` the next day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub from: String,
    pub to: String,
}

impl Span {
    pub fn new(from: &str, to: &str) -> Self {
        Span {
            from: from.to_owned(),
            to: to.to_owned(),
        }
    }
}

impl Week {
    /// Monday to Friday, 09:00 to 17:00: what a new workspace is offered.
    pub fn office() -> Week {
        let day = || vec![Span::new("09:00", "17:00")];
        Week {
            mon: day(),
            tue: day(),
            wed: day(),
            thu: day(),
            fri: day(),
            sat: Vec::new(),
            sun: Vec::new(),
        }
    }

    /// The days with their names as the API spells them, Monday first.
    pub fn days(&self) -> [(Weekday, &'static str, &[Span]); 7] {
        [
            (Weekday::Mon, "mon", &self.mon),
            (Weekday::Tue, "tue", &self.tue),
            (Weekday::Wed, "wed", &self.wed),
            (Weekday::Thu, "thu", &self.thu),
            (Weekday::Fri, "fri", &self.fri),
            (Weekday::Sat, "sat", &self.sat),
            (Weekday::Sun, "sun", &self.sun),
        ]
    }

    fn days_mut(&mut self) -> [(&'static str, &mut Vec<Span>); 7] {
        [
            ("mon", &mut self.mon),
            ("tue", &mut self.tue),
            ("wed", &mut self.wed),
            ("thu", &mut self.thu),
            ("fri", &mut self.fri),
            ("sat", &mut self.sat),
            ("sun", &mut self.sun),
        ]
    }
}

/// `HH:MM` (or `H:MM`) as minutes into the day. An `end` may be `24:00`, or `00:00` for the
/// same midnight (`22:00–00:00`).
fn minutes(raw: &str, end: bool) -> Option<u32> {
    let (h, m) = raw.trim().split_once(':')?;
    let digits = |s: &str| {
        (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (h, m) = (digits(h)?, digits(m).filter(|_| m.len() == 2)?);
    let total = h * 60 + m;
    match total {
        0 if end => Some(MINUTES_A_DAY),
        _ if m >= 60 || total > MINUTES_A_DAY || (total == MINUTES_A_DAY && !end) => None,
        _ => Some(total),
    }
}

/// [`minutes`], or the reason naming the day.
fn day_minutes(day: &str, raw: &str, end: bool) -> Result<u32, ParseError> {
    minutes(raw, end).ok_or_else(|| {
        ParseError::new(
            "week",
            format!("{day}: {raw:?} is not a time of day like 09:00 or 17:30"),
        )
    })
}

/// A closed day as typed: `2026-12-25`.
fn date(day: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()
}

fn clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl BusinessHours {
    /// Checks and normalises (`9:00` → `09:00`, spans in order, the zone's canonical name);
    /// what is stored is always valid.
    pub fn validated(mut self) -> Result<Self, ParseError> {
        let tz: Tz = self.timezone.trim().parse().map_err(|_| {
            ParseError::new(
                "timezone",
                format!(
                    "{:?} is not a time zone name like Europe/Madrid or America/New_York",
                    self.timezone
                ),
            )
        })?;
        self.timezone = tz.name().to_owned();
        let mut open_days = 0;
        for (day, spans) in self.week.days_mut() {
            if spans.len() > MAX_SPANS {
                return Err(ParseError::new(
                    "week",
                    format!("{day}: at most {MAX_SPANS} spans a day"),
                ));
            }
            let mut parsed = Vec::with_capacity(spans.len());
            for span in spans.iter() {
                let (from, to) = (
                    day_minutes(day, &span.from, false)?,
                    day_minutes(day, &span.to, true)?,
                );
                if from >= to {
                    return Err(ParseError::new(
                        "week",
                        format!(
                            "{day}: {}–{} ends before it starts; a night shift is two spans, \
                             22:00–24:00 and 00:00–06:00 the next day",
                            span.from.trim(),
                            span.to.trim()
                        ),
                    ));
                }
                parsed.push((from, to));
            }
            parsed.sort_unstable();
            if let Some(pair) = parsed.windows(2).find(|pair| pair[1].0 < pair[0].1) {
                return Err(ParseError::new(
                    "week",
                    format!(
                        "{day}: {}–{} and {}–{} overlap",
                        clock(pair[0].0),
                        clock(pair[0].1),
                        clock(pair[1].0),
                        clock(pair[1].1)
                    ),
                ));
            }
            open_days += usize::from(!parsed.is_empty());
            *spans = parsed
                .into_iter()
                .map(|(from, to)| Span {
                    from: clock(from),
                    to: clock(to),
                })
                .collect();
        }
        if self.enabled && open_days == 0 {
            return Err(ParseError::new(
                "week",
                "give the team's hours on at least one day",
            ));
        }
        self.away_message = self.away_message.trim().to_owned();
        if self.away_message.is_empty() {
            // Without one, a customer handed off after hours would hear nothing about when.
            return Err(ParseError::new(
                "away_message",
                "say when the team is back, with {back} where the time goes",
            ));
        }
        if self.away_message.chars().count() > MAX_AWAY {
            return Err(ParseError::new(
                "away_message",
                format!("at most {MAX_AWAY} characters"),
            ));
        }
        let mut closed = self
            .closed_on
            .iter()
            .map(|day| {
                date(day).ok_or_else(|| {
                    ParseError::new(
                        "closed_on",
                        format!("{:?} is not a date like 2026-12-25", day.trim()),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        closed.sort_unstable();
        closed.dedup();
        if closed.len() > MAX_CLOSED_DAYS {
            return Err(ParseError::new(
                "closed_on",
                format!(
                    "at most {MAX_CLOSED_DAYS} closed days: remove ones more than 90 days past, \
                     which no report reaches"
                ),
            ));
        }
        self.closed_on = closed.iter().map(|d| d.to_string()).collect();
        Ok(self)
    }

    /// The hours as instants, when they are switched on (and valid: stored settings always
    /// are).
    pub fn schedule(&self) -> Option<Schedule> {
        if !self.enabled {
            return None;
        }
        let schedule = self.parsed();
        if schedule.is_none() {
            tracing::warn!(timezone = %self.timezone, "business hours are on but cannot be read: the team counts as always at work");
        }
        schedule
    }

    fn parsed(&self) -> Option<Schedule> {
        let tz: Tz = self.timezone.parse().ok()?;
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        for (weekday, _, spans) in self.week.days() {
            for span in spans {
                let from = minutes(&span.from, false)?;
                let to = minutes(&span.to, true)?;
                days[weekday.num_days_from_monday() as usize].push((from, to));
            }
        }
        let closed = self
            .closed_on
            .iter()
            .map(|day| date(day))
            .collect::<Option<_>>()?;
        days.iter()
            .any(|d| !d.is_empty())
            .then_some(Schedule { tz, days, closed })
    }

    /// What a customer handed off at `now_ms` is told about when the team answers, when the
    /// team is away: the away message with `{back}` filled in. `None` while the team is at
    /// work (or business hours are off).
    pub fn away_text(&self, now_ms: i64) -> Option<String> {
        let schedule = self.schedule()?;
        let outlook = schedule.outlook(now_ms);
        if outlook.open {
            return None;
        }
        let back = outlook
            .away
            .map(|(_, back_at)| schedule.when(back_at))
            .unwrap_or_default();
        Some(self.away_message.replace("{back}", &back))
    }
}

/// Business hours read in their time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    tz: Tz,
    /// Opening spans in minutes of the day, Monday first.
    days: [Vec<(u32, u32)>; 7],
    /// Local dates closed all day.
    closed: BTreeSet<NaiveDate>,
}

/// Whether the team is at work at an instant, and its current or next time away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outlook {
    pub open: bool,
    /// `(from, back_at)`: while away, the time away under way; while open, the next one.
    /// `None` when the team never leaves (open around the clock all week).
    pub away: Option<(i64, i64)>,
}

/// How far either side of an instant the schedule is unrolled to find its open spans: more
/// than a week, so a team open one day a week is always found — unless closed days are in the
/// way (see [`Schedule::outlook`]).
const HORIZON_DAYS: u64 = 8;

/// How far a closed day is looked for from a team that is otherwise always at work.
const FURTHEST_DAYS: u64 = 800;

impl Schedule {
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first closed day from the local date of `now_ms` on.
    pub fn next_closed_day(&self, now_ms: i64) -> Option<NaiveDate> {
        self.closed.range(self.date(now_ms)..).next().copied()
    }

    /// The local date of an instant.
    fn date(&self, ms: i64) -> NaiveDate {
        self.local(ms).date_naive()
    }

    fn local(&self, ms: i64) -> DateTime<Tz> {
        self.tz
            .timestamp_millis_opt(ms)
            .single()
            .unwrap_or_else(|| self.tz.timestamp_millis_opt(0).unwrap())
    }

    /// The instant a local date and minute of the day fall on. A time the clocks skip (the
    /// hour lost when daylight saving starts) is read as the first minute after the jump; a
    /// time that happens twice, as its first occurrence.
    fn instant(&self, date: NaiveDate, minute: u32) -> i64 {
        let (date, minute) = if minute >= MINUTES_A_DAY {
            (date + Days::new(1), minute - MINUTES_A_DAY)
        } else {
            (date, minute)
        };
        let mut local = date
            .and_hms_opt(minute / 60, minute % 60, 0)
            .expect("minutes of a day are a valid time");
        for _ in 0..=MINUTES_A_DAY {
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.timestamp_millis();
                }
                LocalResult::None => local += chrono::Duration::minutes(1),
            }
        }
        local.and_utc().timestamp_millis()
    }

    /// The open spans from the local day before `from_ms` to the one after `to_ms`, as
    /// instants in order, spans that touch (a night shift across midnight) joined into one.
    fn open_spans(&self, from_ms: i64, to_ms: i64) -> Vec<(i64, i64)> {
        let first = self.date(from_ms) - Days::new(1);
        let last = self.date(to_ms) + Days::new(1);
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for date in first.iter_days().take_while(|d| *d <= last) {
            if self.closed.contains(&date) {
                continue;
            }
            for &(from, to) in &self.days[date.weekday().num_days_from_monday() as usize] {
                let (start, end) = (self.instant(date, from), self.instant(date, to));
                if start >= end {
                    continue; // wholly inside the hour the clocks skip
                }
                match spans.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => spans.push((start, end)),
                }
            }
        }
        spans
    }

    /// Whether the team is at work at `now_ms`, and when it is (next) away.
    pub fn outlook(&self, now_ms: i64) -> Outlook {
        let today = self.date(now_ms);
        let around = |days: u64| {
            let horizon = Days::new(days);
            self.open_spans(
                self.instant(today - horizon, 0),
                self.instant(today + horizon, 0),
            )
        };
        // Closed days can hide the time at work before or after now: the days unrolled double
        // until a span starts on each side, or the last week and a day on that side hold no
        // closed day nor lies one beyond (so every open weekday is in them, and a team at work
        // around the clock has no time away there to find). That needs at most 7(h + 1) days
        // for h closed days, which surely hold a whole week clear of them — or, for a team
        // always at work, as far as its furthest closed day: looked for up to about two years.
        let most = (HORIZON_DAYS + 7 * self.closed.len() as u64).max(FURTHEST_DAYS);
        let mut days = HORIZON_DAYS;
        let spans = loop {
            let spans = around(days);
            let edge = Days::new(days - HORIZON_DAYS);
            let ahead = spans.last().is_some_and(|s| s.0 > now_ms)
                || self.closed.range(today + edge..).next().is_none();
            let behind = spans.first().is_some_and(|s| s.0 <= now_ms)
                || self.closed.range(..=today - edge).next().is_none();
            if (ahead && behind) || days >= most {
                break spans;
            }
            days = (days * 2).min(most);
        };
        let current = spans.iter().position(|s| s.0 <= now_ms && now_ms < s.1);
        match current {
            Some(i) => Outlook {
                open: true,
                away: spans.get(i + 1).map(|next| (spans[i].1, next.0)),
            },
            None => {
                let next = spans.iter().position(|s| s.0 > now_ms);
                // The end of the last time at work before now, if the unrolled days hold one.
                let before = match next {
                    Some(n) => n.checked_sub(1),
                    None => spans.len().checked_sub(1),
                };
                let since = before.map_or(now_ms, |p| spans[p].1.min(now_ms));
                Outlook {
                    open: false,
                    away: next.map(|n| (since, spans[n].0)),
                }
            }
        }
    }

    /// The open spans of `from_ms..to_ms`, to answer many questions about that stretch (a
    /// report's handoffs) without unrolling its days again for each.
    pub fn timeline(&self, from_ms: i64, to_ms: i64) -> Timeline {
        let spans = self.open_spans(from_ms, to_ms);
        let mut before = Vec::with_capacity(spans.len() + 1);
        let mut total = 0;
        before.push(total);
        for (start, end) in &spans {
            total += end - start;
            before.push(total);
        }
        Timeline { spans, before }
    }

    /// Whether the team is at work at `at_ms`.
    pub fn is_open(&self, at_ms: i64) -> bool {
        self.timeline(at_ms, at_ms).is_open(at_ms)
    }

    /// How much of `from_ms..to_ms` the team was at work, in milliseconds: a wait "in
    /// business hours".
    pub fn open_ms_between(&self, from_ms: i64, to_ms: i64) -> i64 {
        self.timeline(from_ms, to_ms)
            .open_ms_between(from_ms, to_ms)
    }

    /// An instant as a customer reads it in a sentence, whenever they read it: "on Monday 30
    /// November at 09:00 (CET)", in the business's time zone.
    pub fn when(&self, at_ms: i64) -> String {
        let at = self.local(at_ms);
        format!("on {} at {}", at.format("%A %-d %B"), self.clock_time(&at))
    }

    /// An instant as the business's clock shows it: "Mon 09:00 (CET)".
    pub fn local_time(&self, at_ms: i64) -> String {
        let at = self.local(at_ms);
        format!("{} {}", at.format("%a"), self.clock_time(&at))
    }

    /// "09:00 (CET)"; a zone without a letter abbreviation reads "09:00 (UTC+14)".
    fn clock_time(&self, at: &DateTime<Tz>) -> String {
        let zone = at.format("%Z").to_string();
        let zone = if zone.starts_with(['+', '-']) {
            format!("UTC{zone}")
        } else {
            zone
        };
        format!("{} ({zone})", at.format("%H:%M"))
    }
}

/// The open spans over a stretch of time, with the open time before each.
#[derive(Debug, Clone)]
pub struct Timeline {
    spans: Vec<(i64, i64)>,
    /// `before[i]`: the open time of the spans before `spans[i]`; one more entry than spans.
    before: Vec<i64>,
}

impl Timeline {
    /// Where `at_ms` falls: the index of the first span not over by then.
    fn index(&self, at_ms: i64) -> usize {
        self.spans.partition_point(|&(_, end)| end <= at_ms)
    }

    pub fn is_open(&self, at_ms: i64) -> bool {
        self.spans
            .get(self.index(at_ms))
            .is_some_and(|&(start, _)| start <= at_ms)
    }

    /// The open time from the timeline's start to `at_ms`.
    fn open_until(&self, at_ms: i64) -> i64 {
        let i = self.index(at_ms);
        let within = self
            .spans
            .get(i)
            .map_or(0, |&(start, _)| (at_ms - start).max(0));
        self.before[i] + within
    }

    /// How much of `from_ms..to_ms` (inside the timeline's stretch) the team was at work.
    pub fn open_ms_between(&self, from_ms: i64, to_ms: i64) -> i64 {
        (self.open_until(to_ms) - self.open_until(from_ms)).max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    fn madrid() -> BusinessHours {
        BusinessHours {
            enabled: true,
            timezone: "Europe/Madrid".into(),
            ..BusinessHours::default()
        }
        .validated()
        .unwrap()
    }

    #[test]
    fn hours_are_normalised_or_refused_with_the_reason() {
        let mut hours = madrid();
        hours.timezone = " europe/madrid ".into();
        assert!(hours.clone().validated().is_err(), "names are exact");
        hours.timezone = "Europe/Madrid".into();
        hours.week.sat = vec![Span::new("13:00", "17:00"), Span::new("9:00", "12:30")];
        let ok = hours.clone().validated().unwrap();
        assert_eq!(
            ok.week.sat,
            [Span::new("09:00", "12:30"), Span::new("13:00", "17:00")]
        );
        let refused = |week: Vec<Span>| {
            let mut h = hours.clone();
            h.week.sun = week;
            h.validated().unwrap_err().problem
        };
        assert!(refused(vec![Span::new("17:00", "09:00")]).contains("night shift"));
        assert!(
            refused(vec![
                Span::new("09:00", "13:00"),
                Span::new("12:00", "15:00")
            ])
            .contains("overlap")
        );
        assert!(refused(vec![Span::new("24:00", "24:00")]).contains("not a time of day"));
        assert!(refused(vec![Span::new("+9:00", "10:00")]).contains("sun: \"+9:00\""));
        let mut night = hours.clone();
        night.week.fri = vec![Span::new("22:00", "00:00")];
        assert_eq!(
            night.validated().unwrap().week.fri,
            [Span::new("22:00", "24:00")],
            "a span to midnight may end at 00:00"
        );
        let mut silent = hours.clone();
        silent.away_message = "  ".into();
        assert!(
            silent.validated().is_err(),
            "the customer must hear something"
        );
        assert!(refused(vec![Span::new("09:60", "10:00")]).contains("not a time of day"));
        assert!(refused(vec![Span::new("nine", "10:00")]).contains("not a time of day"));
        assert!(refused(vec![Span::new("1:00", "2:00"); 5]).contains("at most 4"));
        assert!(hours.clone().validated().is_ok());
        let mut closed = hours.clone();
        closed.week = Week::default();
        assert!(closed.clone().validated().is_err(), "on, and never open");
        closed.enabled = false;
        assert!(closed.validated().is_ok(), "off, it does not matter");
        let mut long = hours;
        long.away_message = "x".repeat(MAX_AWAY + 1);
        assert!(long.validated().is_err());
    }

    #[test]
    fn the_team_is_at_work_in_its_own_time_zone() {
        let schedule = madrid().schedule().unwrap();
        // Tuesday 24 November 2026: Madrid is UTC+1.
        let at_work = schedule.outlook(ms("2026-11-24T15:59:00Z"));
        assert!(at_work.open);
        assert_eq!(
            at_work.away,
            Some((ms("2026-11-24T16:00:00Z"), ms("2026-11-25T08:00:00Z")))
        );
        let evening = schedule.outlook(ms("2026-11-24T16:00:00Z"));
        assert!(!evening.open);
        assert_eq!(
            evening.away,
            Some((ms("2026-11-24T16:00:00Z"), ms("2026-11-25T08:00:00Z")))
        );
        // Friday evening: back on Monday.
        let weekend = schedule.outlook(ms("2026-11-27T19:00:00Z"));
        assert_eq!(
            weekend.away,
            Some((ms("2026-11-27T16:00:00Z"), ms("2026-11-30T08:00:00Z")))
        );
        assert_eq!(
            schedule.when(ms("2026-11-30T08:00:00Z")),
            "on Monday 30 November at 09:00 (CET)"
        );
        assert_eq!(
            schedule.local_time(ms("2026-11-30T08:00:00Z")),
            "Mon 09:00 (CET)"
        );
    }

    #[test]
    fn zones_far_from_utc_keep_their_own_calendar() {
        let mut hours = madrid();
        hours.timezone = "Pacific/Kiritimati".into();
        let schedule = hours.validated().unwrap().schedule().unwrap();
        // Tuesday 24 November 2026 20:00 UTC is Wednesday 10:00 in Kiritimati (UTC+14).
        assert!(schedule.is_open(ms("2026-11-24T20:00:00Z")));
        assert_eq!(
            schedule.when(ms("2026-11-24T19:00:00Z")),
            "on Wednesday 25 November at 09:00 (UTC+14)"
        );
        let mut hours = madrid();
        hours.timezone = "Pacific/Pago_Pago".into();
        let schedule = hours.validated().unwrap().schedule().unwrap();
        // Friday 27 November 2026 04:30 UTC is Thursday 17:30 in Pago Pago (UTC-11): away
        // until Friday 09:00 there.
        let evening = schedule.outlook(ms("2026-11-27T04:30:00Z"));
        assert!(!evening.open);
        assert_eq!(evening.away.unwrap().1, ms("2026-11-27T20:00:00Z"));
        assert_eq!(
            schedule.when(ms("2026-11-27T20:00:00Z")),
            "on Friday 27 November at 09:00 (SST)"
        );
    }

    #[test]
    fn a_timeline_answers_like_the_schedule_everywhere_in_it() {
        let schedule = madrid().schedule().unwrap();
        let (from, to) = (ms("2026-11-01T00:00:00Z"), ms("2026-12-15T00:00:00Z"));
        let timeline = schedule.timeline(from, to);
        let hour = 3_600_000;
        for a in (from..to).step_by(7 * hour as usize + 1234) {
            assert_eq!(timeline.is_open(a), schedule.is_open(a), "{a}");
            for b in [a + hour / 2, a + 30 * hour, a + 9 * 24 * hour] {
                let b = b.min(to);
                let slow: i64 = schedule
                    .open_spans(a, b)
                    .into_iter()
                    .map(|(start, end)| (end.min(b) - start.max(a)).max(0))
                    .sum();
                assert_eq!(timeline.open_ms_between(a, b), slow, "{a}..{b}");
            }
        }
    }

    #[test]
    fn closed_days_are_dates_in_order_once() {
        let mut hours = madrid();
        hours.closed_on = vec![
            " 2026-12-25".into(),
            "2026-12-24".into(),
            "2026-12-25".into(),
        ];
        assert_eq!(
            hours.clone().validated().unwrap().closed_on,
            ["2026-12-24", "2026-12-25"]
        );
        for bad in ["25/12/2026", "2026-02-30", "tomorrow", ""] {
            hours.closed_on = vec![bad.into()];
            let err = hours.clone().validated().unwrap_err();
            assert_eq!(err.field, "closed_on", "{bad}");
        }
        let first = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        hours.closed_on = first
            .iter_days()
            .take(MAX_CLOSED_DAYS + 1)
            .map(|d| d.to_string())
            .collect();
        assert!(hours.validated().unwrap_err().problem.contains("at most"));
    }

    #[test]
    fn on_a_closed_day_the_team_is_back_on_the_next_day_at_work() {
        let mut hours = madrid();
        // Christmas Eve and Day 2026 are a Thursday and a Friday.
        hours.closed_on = vec!["2026-12-24".into(), "2026-12-25".into()];
        let schedule = hours.clone().validated().unwrap().schedule().unwrap();
        let eve = schedule.outlook(ms("2026-12-24T10:00:00Z"));
        assert!(!eve.open);
        assert_eq!(
            eve.away,
            Some((ms("2026-12-23T16:00:00Z"), ms("2026-12-28T08:00:00Z")))
        );
        assert_eq!(
            hours
                .validated()
                .unwrap()
                .away_text(ms("2026-12-25T10:00:00Z"))
                .unwrap(),
            "Our team is away right now and back on Monday 28 December at 09:00 (CET). \
             We'll reply to you as soon as we're back."
        );
        // Wednesday the 23rd, at work: the next time away runs to the 28th.
        let before = schedule.outlook(ms("2026-12-23T10:00:00Z"));
        assert_eq!(
            before.away,
            Some((ms("2026-12-23T16:00:00Z"), ms("2026-12-28T08:00:00Z")))
        );
        // A wait across them counts neither.
        assert_eq!(
            schedule.open_ms_between(ms("2026-12-23T15:00:00Z"), ms("2026-12-28T09:00:00Z")),
            2 * 3_600_000
        );
    }

    #[test]
    fn closed_days_further_than_a_week_are_looked_past() {
        let mut hours = madrid();
        // Open on Mondays only, and the next five Mondays closed.
        hours.week = Week {
            mon: vec![Span::new("09:00", "17:00")],
            ..Week::default()
        };
        hours.closed_on = [
            "2026-11-30",
            "2026-12-07",
            "2026-12-14",
            "2026-12-21",
            "2026-12-28",
        ]
        .map(String::from)
        .to_vec();
        let schedule = hours.validated().unwrap().schedule().unwrap();
        let now = schedule.outlook(ms("2026-11-25T10:00:00Z"));
        assert!(!now.open);
        assert_eq!(
            now.away,
            Some((ms("2026-11-23T16:00:00Z"), ms("2027-01-04T08:00:00Z")))
        );
        // From the far side, the last time at work is found as far back.
        let later = schedule.outlook(ms("2026-12-30T10:00:00Z"));
        assert_eq!(
            later.away,
            Some((ms("2026-11-23T16:00:00Z"), ms("2027-01-04T08:00:00Z")))
        );
    }

    #[test]
    fn a_team_always_at_work_leaves_only_on_its_closed_days() {
        let mut hours = madrid();
        hours.timezone = "UTC".into();
        let day = || vec![Span::new("00:00", "24:00")];
        hours.week = Week {
            mon: day(),
            tue: day(),
            wed: day(),
            thu: day(),
            fri: day(),
            sat: day(),
            sun: day(),
        };
        hours.closed_on = vec!["2026-01-01".into(), "2026-12-25".into()];
        let schedule = hours.clone().validated().unwrap().schedule().unwrap();
        // A month before Christmas, and long after New Year's Day.
        let now = schedule.outlook(ms("2026-11-25T10:00:00Z"));
        assert!(now.open);
        assert_eq!(
            now.away,
            Some((ms("2026-12-25T00:00:00Z"), ms("2026-12-26T00:00:00Z")))
        );
        hours.closed_on = vec!["2026-01-01".into()];
        let schedule = hours.validated().unwrap().schedule().unwrap();
        assert_eq!(
            schedule.outlook(ms("2026-11-25T10:00:00Z")),
            Outlook {
                open: true,
                away: None
            }
        );
    }

    #[test]
    fn a_night_shift_into_a_closed_day_ends_at_midnight() {
        let mut hours = madrid();
        hours.timezone = "UTC".into();
        hours.week = Week {
            thu: vec![Span::new("22:00", "24:00")],
            fri: vec![Span::new("00:00", "06:00"), Span::new("22:00", "24:00")],
            sat: vec![Span::new("00:00", "06:00")],
            ..Week::default()
        };
        hours.closed_on = vec!["2026-12-25".into()];
        let schedule = hours.validated().unwrap().schedule().unwrap();
        // Thursday's shift stops at midnight, Friday's two are gone, Saturday's early one is on.
        let night = schedule.outlook(ms("2026-12-24T23:00:00Z"));
        assert!(night.open);
        assert_eq!(
            night.away,
            Some((ms("2026-12-25T00:00:00Z"), ms("2026-12-26T00:00:00Z")))
        );
    }

    #[test]
    fn the_away_message_says_when_the_team_is_back() {
        let hours = madrid();
        assert_eq!(hours.away_text(ms("2026-11-24T10:00:00Z")), None);
        assert_eq!(
            hours.away_text(ms("2026-11-28T10:00:00Z")).unwrap(),
            "Our team is away right now and back on Monday 30 November at 09:00 (CET). \
             We'll reply to you as soon as we're back."
        );
        let off = BusinessHours::default();
        assert_eq!(off.away_text(ms("2026-11-28T10:00:00Z")), None);
    }

    #[test]
    fn daylight_saving_moves_the_hours_with_the_clocks() {
        let mut hours = madrid();
        hours.week.sun = vec![Span::new("01:00", "05:00")];
        let schedule = hours.validated().unwrap().schedule().unwrap();
        // Monday 30 March 2026 (summer time, UTC+2): opens at 07:00 UTC.
        let monday = schedule.outlook(ms("2026-03-30T06:30:00Z"));
        assert_eq!(monday.away.unwrap().1, ms("2026-03-30T07:00:00Z"));
        // Sunday 29 March 2026 the clocks jump from 02:00 to 03:00: 01:00–05:00 local lasts
        // three hours.
        assert_eq!(
            schedule.open_ms_between(ms("2026-03-29T00:00:00Z"), ms("2026-03-29T06:00:00Z")),
            3 * 3_600_000
        );
        // Sunday 25 October 2026 they fall back from 03:00 to 02:00: it lasts five.
        assert_eq!(
            schedule.open_ms_between(ms("2026-10-24T22:00:00Z"), ms("2026-10-25T06:00:00Z")),
            5 * 3_600_000
        );
    }

    #[test]
    fn a_wait_in_business_hours_counts_only_the_open_time() {
        let schedule = madrid().schedule().unwrap();
        // Opened Friday 16:30 Madrid, answered Monday 09:15: 30 + 15 minutes at work.
        assert_eq!(
            schedule.open_ms_between(ms("2026-11-27T15:30:00Z"), ms("2026-11-30T08:15:00Z")),
            45 * 60_000
        );
        assert_eq!(
            schedule.open_ms_between(ms("2026-11-28T10:00:00Z"), ms("2026-11-28T12:00:00Z")),
            0
        );
        assert_eq!(
            schedule.open_ms_between(ms("2026-11-30T08:15:00Z"), ms("2026-11-27T15:30:00Z")),
            0
        );
    }

    #[test]
    fn a_night_shift_across_midnight_is_one_time_at_work() {
        let mut hours = madrid();
        hours.timezone = "UTC".into();
        hours.week = Week {
            mon: vec![Span::new("22:00", "24:00")],
            tue: vec![Span::new("00:00", "06:00")],
            ..Week::default()
        };
        let schedule = hours.validated().unwrap().schedule().unwrap();
        let night = schedule.outlook(ms("2026-11-23T23:00:00Z"));
        assert!(night.open);
        assert_eq!(night.away.unwrap().0, ms("2026-11-24T06:00:00Z"));
        assert_eq!(night.away.unwrap().1, ms("2026-11-30T22:00:00Z"));
    }

    #[test]
    fn a_team_that_never_leaves_is_never_away() {
        let mut hours = madrid();
        let all_day = || vec![Span::new("00:00", "24:00")];
        hours.week = Week {
            mon: all_day(),
            tue: all_day(),
            wed: all_day(),
            thu: all_day(),
            fri: all_day(),
            sat: all_day(),
            sun: all_day(),
        };
        let schedule = hours.validated().unwrap().schedule().unwrap();
        let outlook = schedule.outlook(ms("2026-11-28T03:00:00Z"));
        assert!(outlook.open);
        assert_eq!(outlook.away, None);
    }
}
