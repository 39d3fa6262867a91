//! An integrator's webhook subscription as it is accepted: an absolute http(s) URL and the
//! event types it follows, checked against the types the event log produces.

use url::Url;

use super::ParseError;

/// Every event type the workspace log records, in the order a handoff lives them.
pub const EVENT_TYPES: [&str; 7] = [
    "handoff.created",
    "handoff.claimed",
    "handoff.released",
    "handoff.resolved",
    "message.created",
    "message.status",
    "message.attachment",
];

/// Follows every event type, including types added later.
pub const ALL_EVENTS: &str = "*";

const MAX_URL_LEN: usize = 2048;

/// A checked subscription: the URL to post to and the event types, sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub url: Url,
    pub events: Vec<String>,
}

impl Subscription {
    pub fn parse(url: &str, events: &[String]) -> Result<Subscription, ParseError> {
        Ok(Subscription {
            url: parse_url(url)?,
            events: parse_events(events)?,
        })
    }
}

fn parse_url(raw: &str) -> Result<Url, ParseError> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(ParseError::new(
            "url",
            format!("is longer than {MAX_URL_LEN} characters"),
        ));
    }
    let url = Url::parse(raw)
        .map_err(|err| ParseError::new("url", format!("{raw:?} is not a URL ({err})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(ParseError::new(
            "url",
            format!("{raw:?} is not an http or https URL with a host"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ParseError::new(
            "url",
            "must not carry credentials; deliveries are signed instead",
        ));
    }
    Ok(url)
}

fn parse_events(raw: &[String]) -> Result<Vec<String>, ParseError> {
    if raw.is_empty() {
        return Err(ParseError::new(
            "events",
            format!(
                "name at least one event type: {} (or \"{ALL_EVENTS}\" for all)",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    let mut events = Vec::with_capacity(raw.len());
    for event in raw {
        let event = event.trim();
        if event != ALL_EVENTS && !EVENT_TYPES.contains(&event) {
            return Err(ParseError::new(
                "events",
                format!(
                    "{event:?} is not an event type; the types are {} (or \"{ALL_EVENTS}\")",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        events.push(event.to_owned());
    }
    events.sort();
    events.dedup();
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(list: &[&str]) -> Vec<String> {
        list.iter().map(|e| (*e).to_owned()).collect()
    }

    #[test]
    fn accepts_http_urls_and_known_events() {
        let sub = Subscription::parse(
            " https://hooks.example.com/baton?team=7 ",
            &events(&["message.created", "handoff.created", "message.created"]),
        )
        .unwrap();
        assert_eq!(sub.url.as_str(), "https://hooks.example.com/baton?team=7");
        assert_eq!(sub.events, events(&["handoff.created", "message.created"]));
        assert!(Subscription::parse("http://127.0.0.1:9000/in", &events(&["*"])).is_ok());
    }

    #[test]
    fn refuses_other_schemes_credentials_and_unknown_events() {
        let any = events(&["*"]);
        for url in [
            "ftp://example.com/x",
            "example.com/hook",
            "javascript:alert(1)",
            "https://user:pw@example.com/",
            "",
        ] {
            let err = Subscription::parse(url, &any).unwrap_err();
            assert_eq!(err.field, "url", "{url}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(Subscription::parse(&long, &any).is_err());
        let err =
            Subscription::parse("https://example.com", &events(&["handoff.opened"])).unwrap_err();
        assert!(err.problem.contains("handoff.created"), "{err}");
        assert!(Subscription::parse("https://example.com", &[]).is_err());
    }
}
