//! An integrator's webhook subscription as it is accepted: an absolute http(s) URL and the
//! event types it follows, checked against the types the event log produces.

use url::Url;

use super::ParseError;

/// Every event type the workspace log records, in the order a handoff lives them.
pub const EVENT_TYPES: [&str; 13] = [
    "handoff.created",
    "handoff.assigned",
    "handoff.claimed",
    "handoff.transferred",
    "handoff.released",
    "handoff.resolved",
    "handoff.rated",
    "handoff.labelled",
    "note.created",
    "message.created",
    "message.status",
    "message.attachment",
    "contact.erased",
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

/// Whether an address is on the internet rather than on this machine or its private network.
/// An instance that refuses local webhooks (`BATON_WEBHOOKS_ALLOW_LOCAL=false`, for workspaces
/// run for others) delivers only to such addresses: the admin of one workspace must not make
/// Baton probe the network it runs in — cloud metadata at 169.254.169.254, a database on
/// localhost.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [first, second, third, _] = v4.octets();
            let shared = first == 100 && (64..128).contains(&second); // 100.64.0.0/10, carrier NAT
            let benchmarking = first == 198 && (second & 0xfe) == 18; // 198.18.0.0/15
            let protocol = first == 192 && second == 0 && third == 0; // 192.0.0.0/24
            !(first == 0
                || first >= 240 // reserved, and used as private space by some clouds
                || shared
                || benchmarking
                || protocol
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation())
        }
        IpAddr::V6(v6) => match embedded_ipv4(v6) {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let site_local = (v6.segments()[0] & 0xffc0) == 0xfec0; // fec0::/10
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
                    || site_local)
            }
        },
    }
}

/// The IPv4 address an IPv6 one stands for, where a connection to it reaches that IPv4 host:
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002:aabb:ccdd::/48`).
fn embedded_ipv4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let octets = v6.octets();
    let tail = || std::net::Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    let segments = v6.segments();
    if let Some(v4) = v6.to_ipv4_mapped() {
        Some(v4)
    } else if (segments[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified())
        || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        Some(tail())
    } else if segments[0] == 0x2002 {
        Some(std::net::Ipv4Addr::new(
            octets[2], octets[3], octets[4], octets[5],
        ))
    } else {
        None
    }
}

/// Why an endpoint at `address` (an address, or a host name that resolves only to such) is
/// not delivered to.
pub fn local_refusal(address: &str) -> String {
    format!(
        "{address} is a local or private address; this instance reaches internet addresses \
         only for a workspace's webhooks and web pages (BATON_WEBHOOKS_ALLOW_LOCAL=false)"
    )
}

/// The address an endpoint URL names literally (`http://10.0.0.5/hook`), when it is not a
/// public one. A host name is checked when it is resolved, at each delivery.
pub fn literal_local_address(url: &Url) -> Option<std::net::IpAddr> {
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => std::net::IpAddr::V4(v4),
        url::Host::Ipv6(v6) => std::net::IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    (!is_public(ip)).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_internet_addresses_are_public() {
        for local in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:5",
            "2002:a00:5::1",
            "fec0::1",
            "240.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
        ] {
            assert!(!is_public(local.parse().unwrap()), "{local}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "100.128.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::101:101",
            "2002:101:101::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_local_address_written_in_the_url_is_found_and_a_host_name_is_left_to_resolution() {
        let local = |raw: &str| literal_local_address(&Url::parse(raw).unwrap());
        assert!(local("http://127.0.0.1:8080/hook").is_some());
        assert!(local("http://[::1]/hook").is_some());
        assert!(local("http://169.254.169.254/latest/meta-data").is_some());
        assert!(local("https://203.0.113.1.example.com/hook").is_none());
        assert!(local("https://hooks.example.com/hook").is_none());
        assert!(local("https://1.1.1.1/hook").is_none());
    }

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
