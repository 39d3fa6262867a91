//! Labels the team files handoffs under: short words like `refund`, `vip`, `bug-report`,
//! written as anyone types them ("#Refund", " VIP ") and kept in one spelling, so that a label
//! means the same case wherever it was put.

use super::ParseError;

/// The most labels one handoff carries.
pub const MAX_LABELS: usize = 10;

/// The longest label, in characters.
pub const MAX_LABEL_LEN: usize = 32;

/// One label: lowercase letters (of any alphabet), digits, `-` and `_`, without a leading `#`.
pub fn label(raw: &str) -> Result<String, ParseError> {
    let label = raw.trim().trim_start_matches('#').to_lowercase();
    if label.is_empty() {
        return Err(ParseError::new("labels", "a label cannot be empty"));
    }
    if label.chars().count() > MAX_LABEL_LEN {
        return Err(ParseError::new(
            "labels",
            format!("{label:?} is longer than {MAX_LABEL_LEN} characters"),
        ));
    }
    if !label
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ParseError::new(
            "labels",
            format!(
                "{label:?}: a label is one word of letters, digits, - and _ (like refund or bug-report)"
            ),
        ));
    }
    Ok(label)
}

/// A handoff's labels: each checked, sorted, each once.
pub fn labels<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, ParseError> {
    let mut labels = raw
        .iter()
        .map(|l| label(l.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    labels.sort_unstable();
    labels.dedup();
    if labels.len() > MAX_LABELS {
        return Err(ParseError::new(
            "labels",
            format!("at most {MAX_LABELS} labels on a handoff"),
        ));
    }
    Ok(labels)
}

/// The labels as stored: joined by commas (none can hold one).
pub fn stored(labels: &[String]) -> String {
    labels.join(",")
}

/// The labels from their stored form.
pub fn from_stored(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_kept_in_one_spelling() {
        assert_eq!(
            labels(&[
                "#Refund",
                " vip ",
                "refund",
                "Bug-Report",
                "devolución",
                "返品"
            ])
            .unwrap(),
            ["bug-report", "devolución", "refund", "vip", "返品"]
        );
        assert_eq!(labels::<&str>(&[]).unwrap(), Vec::<String>::new());
        for bad in ["", "#", "two words", "a,b", "100%", "<b>", "x_y%"] {
            assert_eq!(label(bad).unwrap_err().field, "labels", "{bad:?}");
        }
        assert!(label(&"x".repeat(MAX_LABEL_LEN)).is_ok());
        assert!(label(&"x".repeat(MAX_LABEL_LEN + 1)).is_err());
        let many: Vec<String> = (0..=MAX_LABELS).map(|i| format!("l{i}")).collect();
        assert!(labels(&many).unwrap_err().problem.contains("at most"));
        let kept = labels(&["vip", "refund"]).unwrap();
        assert_eq!(from_stored(&stored(&kept)), kept);
        assert_eq!(from_stored(""), Vec::<String>::new());
    }
}
