//! Newtypes for the strings that come from outside: emails, passwords, names, roles, bot texts.

use std::fmt;

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

use super::ParseError;

/// A lower-cased, trimmed email address with one `@` and something on each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let email = raw.trim().to_lowercase();
        let problem = |p: &str| Err(ParseError::new("email", p));
        if email.is_empty() {
            return problem("is required");
        }
        if email.chars().count() > 254 {
            return problem("is longer than 254 characters");
        }
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Ok(Self(email))
            }
            _ => problem("is not an email address"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password good enough to hash: 8 to 1024 characters. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// The fewest characters a password chosen in Baton may have.
    const MIN_CHARS: usize = 8;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::of_length(raw, Self::MIN_CHARS)
    }

    /// The owner's password as the operator configured it (`BATON_ADMIN_PASSWORD`): taken if
    /// it is not empty, however short, since an instance that refuses to start over it helps
    /// no one. Whoever starts Baton is told to choose a longer one.
    pub fn configured(raw: &str) -> Result<Self, ParseError> {
        let password = Self::of_length(raw, 1)?;
        if raw.chars().count() < Self::MIN_CHARS {
            tracing::warn!(
                "BATON_ADMIN_PASSWORD is shorter than 8 characters: choose a longer one \
                 (Account, after logging in)"
            );
        }
        Ok(password)
    }

    fn of_length(raw: &str, min: usize) -> Result<Self, ParseError> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(ParseError::new("password", "must not be empty"));
        }
        if len < min {
            return Err(ParseError::new(
                "password",
                format!("must be at least {min} characters long"),
            ));
        }
        if len > 1024 {
            return Err(ParseError::new(
                "password",
                "must be at most 1024 characters long",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ParseError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ParseError::new(field, "is required"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(
                field,
                format!("is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ParseError::new(field, "contains control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Free text a bot owner writes (system prompt, handoff message): at most 8000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotText(String);

impl BotText {
    pub const MAX_CHARS: usize = 8000;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ParseError> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(
                field,
                format!("is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if raw.contains('\0') {
            return Err(ParseError::new(field, "contains a NUL character"));
        }
        Ok(Self(raw.trim().to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A chat message's text: trimmed, not empty, at most 4096 characters (WhatsApp's limit, so a
/// message is never too long for the channel it goes out on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub const MAX_CHARS: usize = 4096;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(ParseError::new("text", "is empty"));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(
                "text",
                format!("is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if text.contains('\0') {
            return Err(ParseError::new("text", "contains a NUL character"));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `text` in pieces of at most [`Self::MAX_CHARS`] characters, for a channel that refuses
    /// longer messages: one piece if it fits, else cut at the last paragraph break, line break,
    /// sentence end or space of each piece's second half, and only mid-word if there is none.
    pub fn pieces(text: &str) -> Vec<&str> {
        pieces(text, Self::MAX_CHARS)
    }
}

/// The shortcut an agent types after `/` to insert a saved reply: 1 to 32 letters (with their
/// marks), digits, `-` or `_`, in any script, kept in lower case and composed (NFC), so
/// "refund-policy", "envío" and "नमस्ते" are shortcuts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut(String);

impl Shortcut {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        use unicode_normalization::UnicodeNormalization;
        let shortcut: String = raw
            .trim()
            .trim_start_matches('/')
            .to_lowercase()
            .nfc()
            .collect();
        if shortcut.is_empty() {
            return Err(ParseError::new("shortcut", "is empty"));
        }
        if shortcut.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(
                "shortcut",
                format!("is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if let Some(c) = shortcut.chars().find(|&c| {
            // Marks too: Devanagari's virama and Thai's tone marks are part of the word.
            !(c.is_alphanumeric()
                || unicode_normalization::char::is_combining_mark(c)
                || matches!(c, '-' | '_'))
        }) {
            return Err(ParseError::new(
                "shortcut",
                format!("may hold letters, digits, - and _ only, not {c:?}"),
            ));
        }
        Ok(Self(shortcut))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn pieces(text: &str, max_chars: usize) -> Vec<&str> {
    debug_assert!(max_chars >= 2, "a piece must have room to move on");
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while let Some((limit, _)) = rest.char_indices().nth(max_chars) {
        let head = &rest[..limit];
        // A cut in the first half would leave a short piece and more pieces than needed.
        let half = head.char_indices().nth(max_chars / 2).map_or(0, |(i, _)| i);
        let late = |at: Option<usize>| at.filter(|&at| at >= half);
        let cut = late(head.rfind("\n\n"))
            .or_else(|| late(head.rfind('\n')))
            .or_else(|| late(head.split_sentence_bound_indices().last().map(|(at, _)| at)))
            .or_else(|| late(head.rfind(char::is_whitespace)))
            // Mid-word, but not inside a letter built of several characters (an accent, a flag).
            .or_else(|| {
                let boundaries = rest.grapheme_indices(true).map(|(at, _)| at);
                late(boundaries.take_while(|&at| at <= limit).last())
            })
            .unwrap_or(limit);
        pieces.push(rest[..cut].trim_end());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest);
    }
    pieces
}

/// What a user may do in their workspace. Owners and admins manage; agents handle handoffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            _ => Err(ParseError::new("role", "must be \"admin\" or \"agent\"")),
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// Text as a search compares it: lower-cased in every script (final ς as σ, ß as ss),
/// compatibility forms unified (full-width letters, ligatures), accents dropped, and the
/// Latin letters whose stroke is not an accent in Unicode read as the plain letter (ł, ø, đ,
/// ħ, ı; æ and œ as two) — so "JOSÉ", "jose" and "José" are one name, and so are "ИВАН",
/// "Иван", "Ёлкин"/"елкин", "STRASSE"/"Straße" and "lukasz"/"Łukasz". (SQL's `LOWER` folds
/// ASCII only on SQLite, and on PostgreSQL only as far as the database's locale goes.) Only
/// marks a writer may leave out go: Latin, Greek and Cyrillic accents and Arabic vowel signs,
/// not the vowel signs Devanagari or Thai are spelt with.
pub fn search_fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut folded = String::with_capacity(text.len());
    for c in text
        .nfkd()
        .filter(|c| !matches!(c, '\u{0300}'..='\u{036F}' | '\u{064B}'..='\u{065F}'))
        .flat_map(char::to_lowercase)
    {
        match c {
            'ς' => folded.push('σ'),
            'ß' => folded.push_str("ss"),
            'ł' => folded.push('l'),
            'ø' => folded.push('o'),
            'đ' => folded.push('d'),
            'ħ' => folded.push('h'),
            'ı' => folded.push('i'),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            c => folded.push(c),
        }
    }
    folded.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortcut_is_one_word_in_lower_case() {
        assert_eq!(
            Shortcut::parse(" /Refund-Policy ").unwrap().as_str(),
            "refund-policy"
        );
        assert_eq!(Shortcut::parse("Envío_2").unwrap().as_str(), "envío_2");
        assert_eq!(Shortcut::parse("envi\u{301}o").unwrap().as_str(), "envío");
        assert_eq!(Shortcut::parse("नमस्ते").unwrap().as_str(), "नमस्ते");
        assert_eq!(Shortcut::parse("สวัสดี").unwrap().as_str(), "สวัสดี");
        assert_eq!(Shortcut::parse("/").unwrap_err().problem, "is empty");
        assert!(
            Shortcut::parse("two words")
                .unwrap_err()
                .problem
                .contains("' '")
        );
        assert!(Shortcut::parse("<b>").is_err());
        assert!(Shortcut::parse(&"a".repeat(33)).is_err());
        assert!(Shortcut::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn search_folds_case_and_accents_in_every_script() {
        assert_eq!(search_fold("JOSÉ Müller"), "jose muller");
        assert_eq!(search_fold("Jose\u{301}"), "jose");
        assert_eq!(search_fold("ИВАН Ёлкин"), "иван елкин");
        assert_eq!(search_fold("IŞIK İnce"), "isik ince");
        assert_eq!(search_fold("Ὀδυσσεύς"), "οδυσσευσ");
        assert_eq!(search_fold("مُحَمَّد"), "محمد");
        // Devanagari keeps its vowel signs: they are the word's letters, not accents.
        assert_eq!(search_fold("किताब"), "किताब");
        assert_eq!(search_fold("STRASSE"), search_fold("Straße"));
        assert_eq!(search_fold("ΟΔΥΣΣΕΥΣ"), search_fold("Οδυσσευς"));
        assert_eq!(search_fold("Łukasz Søren Æsir"), "lukasz soren aesir");
        assert_eq!(search_fold("ＪＯＳＥ"), "jose");
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ana@Example.COM ").unwrap().as_str(),
            "ana@example.com"
        );
        for bad in ["", "no-at-sign", "@example.com", "ana@", "a@b@c", "a b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn short_passwords_are_refused_and_never_printed() {
        assert!(Password::parse("short").is_err());
        let password = Password::parse("correct horse").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("name", "  Ana ").unwrap().as_str(), "Ana");
        assert!(Name::parse("name", "   ").is_err());
        assert!(Name::parse("name", &"x".repeat(101)).is_err());
        assert!(Name::parse("name", "a\u{0}b").is_err());
    }

    #[test]
    fn long_text_is_cut_where_a_reader_would_pause() {
        assert_eq!(pieces("  short  ", 10), ["short"]);
        assert!(pieces("   ", 10).is_empty());
        // A paragraph break in the second half wins over a later sentence end.
        assert_eq!(
            pieces("One two three.\n\nFour five. Six seven eight", 20),
            ["One two three.", "Four five.", "Six seven eight"]
        );
        // Else the last sentence end, else the last space.
        assert_eq!(
            pieces("Aaa bbb. Ccc ddd eee fff", 14),
            ["Aaa bbb.", "Ccc ddd eee", "fff"]
        );
        // A paragraph break in the first half would leave a stub: a later break is used.
        assert_eq!(
            pieces("Hi.\n\nAaaa bbbb. Cccc dddd", 16),
            ["Hi.\n\nAaaa bbbb.", "Cccc dddd"]
        );
        // No space at all: cut mid-word, on a character boundary, never inside a letter
        // written as a base and an accent.
        assert_eq!(pieces("ééééééé", 3), ["ééé", "ééé", "é"]);
        assert_eq!(pieces("abcde\u{301}fgh", 5), ["abcd", "e\u{301}fgh"]);
        let long = "Ünïcödé wörds, sentences. ".repeat(400);
        let cut = pieces(&long, MessageText::MAX_CHARS);
        assert_eq!(cut.len(), 3);
        assert!(
            cut.iter()
                .all(|p| p.chars().count() <= MessageText::MAX_CHARS)
        );
        assert!(cut.iter().all(|p| p.ends_with('.')), "{cut:?}");
        assert_eq!(cut.join(" "), long.trim());
    }
}
