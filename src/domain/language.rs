//! The language a bot's knowledge base is written in, which decides how its text is analysed
//! for search (stemming, stop words). Customers of one business mostly write in one language,
//! so it is a setting of the bot, not something guessed per message.

use std::fmt;

use super::ParseError;

/// A knowledge-base language: one of the languages the search index can stem, or `None` for
/// any other language (text is lower-cased and accent-folded, nothing more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KbLanguage {
    #[default]
    English,
    Spanish,
    Portuguese,
    French,
    German,
    Italian,
    Dutch,
    Swedish,
    Danish,
    Norwegian,
    Finnish,
    Hungarian,
    Romanian,
    Greek,
    Russian,
    Turkish,
    Arabic,
    Tamil,
    /// No stemming: Indonesian, Hindi, Malay, Swahili and every other language.
    None,
}

impl KbLanguage {
    /// Every value, in the order the dashboard lists them.
    pub const ALL: [KbLanguage; 19] = [
        KbLanguage::English,
        KbLanguage::Spanish,
        KbLanguage::Portuguese,
        KbLanguage::French,
        KbLanguage::German,
        KbLanguage::Italian,
        KbLanguage::Dutch,
        KbLanguage::Swedish,
        KbLanguage::Danish,
        KbLanguage::Norwegian,
        KbLanguage::Finnish,
        KbLanguage::Hungarian,
        KbLanguage::Romanian,
        KbLanguage::Greek,
        KbLanguage::Russian,
        KbLanguage::Turkish,
        KbLanguage::Arabic,
        KbLanguage::Tamil,
        KbLanguage::None,
    ];

    /// Reads an ISO 639-1 code (`es`, `pt`…) or `none`; case and surrounding spaces are ignored.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let code = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|language| language.as_str() == code)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|l| l.as_str()).collect();
                ParseError::new(
                    "kb_language",
                    format!(
                        "must be one of {} (got {:?})",
                        codes.join(", "),
                        raw.chars().take(40).collect::<String>()
                    ),
                )
            })
    }

    /// The code stored and shown in the API: ISO 639-1, or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            KbLanguage::English => "en",
            KbLanguage::Spanish => "es",
            KbLanguage::Portuguese => "pt",
            KbLanguage::French => "fr",
            KbLanguage::German => "de",
            KbLanguage::Italian => "it",
            KbLanguage::Dutch => "nl",
            KbLanguage::Swedish => "sv",
            KbLanguage::Danish => "da",
            KbLanguage::Norwegian => "no",
            KbLanguage::Finnish => "fi",
            KbLanguage::Hungarian => "hu",
            KbLanguage::Romanian => "ro",
            KbLanguage::Greek => "el",
            KbLanguage::Russian => "ru",
            KbLanguage::Turkish => "tr",
            KbLanguage::Arabic => "ar",
            KbLanguage::Tamil => "ta",
            KbLanguage::None => "none",
        }
    }

    /// A name for people: the English name and the language's own.
    pub fn label(self) -> &'static str {
        match self {
            KbLanguage::English => "English",
            KbLanguage::Spanish => "Spanish (español)",
            KbLanguage::Portuguese => "Portuguese (português)",
            KbLanguage::French => "French (français)",
            KbLanguage::German => "German (Deutsch)",
            KbLanguage::Italian => "Italian (italiano)",
            KbLanguage::Dutch => "Dutch (Nederlands)",
            KbLanguage::Swedish => "Swedish (svenska)",
            KbLanguage::Danish => "Danish (dansk)",
            KbLanguage::Norwegian => "Norwegian (norsk)",
            KbLanguage::Finnish => "Finnish (suomi)",
            KbLanguage::Hungarian => "Hungarian (magyar)",
            KbLanguage::Romanian => "Romanian (română)",
            KbLanguage::Greek => "Greek (ελληνικά)",
            KbLanguage::Russian => "Russian (русский)",
            KbLanguage::Turkish => "Turkish (Türkçe)",
            KbLanguage::Arabic => "Arabic (العربية)",
            KbLanguage::Tamil => "Tamil (தமிழ்)",
            KbLanguage::None => "Other: no stemming (Indonesian, Hindi…)",
        }
    }
}

impl fmt::Display for KbLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// For reading the stored code back from the database.
impl TryFrom<String> for KbLanguage {
    type Error = ParseError;

    fn try_from(raw: String) -> Result<Self, ParseError> {
        KbLanguage::parse(&raw)
    }
}

impl serde::Serialize for KbLanguage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself() {
        for language in KbLanguage::ALL {
            assert_eq!(KbLanguage::parse(language.as_str()), Ok(language));
        }
        assert_eq!(KbLanguage::parse(" ES "), Ok(KbLanguage::Spanish));
        assert_eq!(KbLanguage::default(), KbLanguage::English);
    }

    #[test]
    fn an_unknown_language_is_refused_naming_the_field_and_the_choices() {
        let err = KbLanguage::parse("klingon").unwrap_err();
        assert_eq!(err.field, "kb_language");
        assert!(err.problem.contains("es, pt"), "{err}");
        assert!(err.problem.contains("none"), "{err}");
        assert!(KbLanguage::parse("").is_err());
        assert!(KbLanguage::parse("spanish").is_err());
    }
}
