//! Workspace settings kept as JSON documents: who hears about new handoffs, and how long
//! customers' data is kept.

use serde::{Deserialize, Serialize};

use super::ParseError;

/// Settings → Notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    #[serde(default)]
    pub whatsapp: WhatsappNotifications,
}

/// New-handoff messages to agents on WhatsApp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappNotifications {
    #[serde(default)]
    pub enabled: bool,
    /// The WhatsApp channel (business number) the notifications are sent from.
    #[serde(default)]
    pub channel_id: Option<String>,
    /// Agents' numbers in international format (`+4915112345678`).
    #[serde(default)]
    pub recipients: Vec<String>,
    /// The approved template used outside an agent's 24-hour window.
    #[serde(default)]
    pub template: Template,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    pub language: String,
    /// The template has two quick-reply buttons, Accept and Decline (in that order): each
    /// notification fills in their payloads, and a tap claims the handoff or leaves it.
    #[serde(default)]
    pub quick_replies: bool,
}

impl Default for Template {
    fn default() -> Self {
        Template {
            name: "new_handoff".to_owned(),
            language: "en_US".to_owned(),
            quick_replies: false,
        }
    }
}

/// A phone number in international form: `+` and 8 to 15 digits; spaces and dashes dropped.
pub fn parse_phone(field: &'static str, raw: &str) -> Result<String, ParseError> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or_default();
    if compact.starts_with('+')
        && (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
    {
        Ok(compact)
    } else {
        Err(ParseError::new(
            field,
            format!("{raw:?} is not a phone number in international form, like +4915112345678"),
        ))
    }
}

/// A number that may be left empty (`None`: no number).
pub fn parse_optional_phone(field: &'static str, raw: &str) -> Result<Option<String>, ParseError> {
    Some(raw.trim())
        .filter(|n| !n.is_empty())
        .map(|n| parse_phone(field, n))
        .transpose()
}

impl NotificationSettings {
    /// Normalises numbers and checks the rest; what is stored is always valid.
    pub fn validated(mut self) -> Result<Self, ParseError> {
        let whatsapp = &mut self.whatsapp;
        let mut seen = std::collections::HashSet::new();
        let mut recipients = Vec::with_capacity(whatsapp.recipients.len());
        for raw in &whatsapp.recipients {
            let phone = parse_phone("recipients", raw)?;
            // One notification per person, however often (and however spelt) the number is listed.
            if seen.insert(phone.clone()) {
                recipients.push(phone);
            }
        }
        whatsapp.recipients = recipients;
        if whatsapp.template.name.trim().is_empty() || whatsapp.template.language.trim().is_empty()
        {
            return Err(ParseError::new("template", "needs a name and a language"));
        }
        if whatsapp.enabled && whatsapp.channel_id.as_deref().is_none_or(str::is_empty) {
            return Err(ParseError::new(
                "channel_id",
                "choose the WhatsApp number to send from",
            ));
        }
        Ok(self)
    }
}

/// Settings → Customers: how long a customer's data is kept after their last activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days after a customer's last message (or handoff change) before everything kept about
    /// them is erased; `None` keeps it until an admin erases it. A customer with an open
    /// handoff is kept whatever its age.
    #[serde(default)]
    pub keep_days: Option<u32>,
}

impl RetentionSettings {
    /// Ten years: more is a typo, not a policy.
    pub const MAX_DAYS: u32 = 3650;

    pub fn validated(self) -> Result<Self, ParseError> {
        match self.keep_days {
            Some(days) if !(1..=Self::MAX_DAYS).contains(&days) => Err(ParseError::new(
                "keep_days",
                format!(
                    "must be from 1 to {} days, or null to keep data until it is erased",
                    Self::MAX_DAYS
                ),
            )),
            _ => Ok(self),
        }
    }

    /// The last-activity time before which a customer is erased, when anything is.
    pub fn erase_before(&self, now_ms: i64) -> Option<i64> {
        self.keep_days
            .map(|days| now_ms - i64::from(days) * 86_400_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_or_refused() {
        assert_eq!(
            parse_phone("recipients", "+49 151 1234-5678").unwrap(),
            "+4915112345678"
        );
        assert!(parse_phone("recipients", "015112345678").is_err());
        assert!(parse_phone("recipients", "+12").is_err());
        assert!(parse_phone("recipients", "+49abc12345678").is_err());
    }

    #[test]
    fn a_number_listed_twice_is_notified_once() {
        let mut settings = NotificationSettings::default();
        settings.whatsapp.recipients = vec![
            "+4915112345678".into(),
            "+14155550123".into(),
            "+49 151 1234-5678".into(),
        ];
        let settings = settings.validated().unwrap();
        assert_eq!(
            settings.whatsapp.recipients,
            ["+4915112345678", "+14155550123"]
        );
    }

    #[test]
    fn enabling_needs_a_channel() {
        let mut settings = NotificationSettings::default();
        settings.whatsapp.enabled = true;
        assert!(settings.clone().validated().is_err());
        settings.whatsapp.channel_id = Some("ch_1".into());
        assert!(settings.validated().is_ok());
    }

    #[test]
    fn retention_is_from_a_day_to_ten_years_or_forever() {
        let keep = |days| RetentionSettings { keep_days: days }.validated();
        assert!(keep(None).is_ok());
        assert!(keep(Some(1)).is_ok());
        assert!(keep(Some(3650)).is_ok());
        assert!(keep(Some(0)).is_err());
        assert!(keep(Some(3651)).is_err());
        let day = 86_400_000;
        assert_eq!(
            keep(Some(30)).unwrap().erase_before(100 * day),
            Some(70 * day)
        );
        assert_eq!(keep(None).unwrap().erase_before(100 * day), None);
    }
}
