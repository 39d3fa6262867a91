//! How text in a language other than English becomes index terms. English keeps its own tuned
//! analyzer in [`super::index`]; every other [`KbLanguage`] goes through the chain built here:
//!
//! 1. words: runs of letters and digits *with their combining marks*. tantivy's
//!    `SimpleTokenizer` cuts at any character that is not alphanumeric, and Devanagari's virama
//!    and nukta, or Tamil's pulli, are not, so it cuts "हिन्दी" in two;
//! 2. lower-case, then Unicode NFKC (text pasted from PDFs brings Arabic presentation forms,
//!    ligatures and decomposed accents), `ё` → `е`, `ς` → `σ`, Arabic without vowel marks or
//!    tatweel, with one alef and `ى` as `ي`;
//! 3. the language's stop words as written (tantivy's list, accents and all);
//! 4. accent folding, so that "atencion" finds "atención" (Cyrillic, Greek, Arabic and Indic
//!    letters have no ASCII form and pass through unchanged), and the list again ("cómo" is
//!    now "como");
//! 5. spelling variants (German "ue" for "ü"), then the stop words as customers type them
//!    without accents, and the words questions are wrapped in ([`super::stopwords`]);
//! 6. the language's Snowball stemmer, fed the accent Spanish and Portuguese put on suffixes
//!    (`-ción`, `-ção`) so that "informacion" and "informaciones" meet "información", and
//!    Arabic words with "and the"/"with the" reduced to the article it knows.
//!
//! `None` stops after step 4: lower-case and fold only, for languages with no stemmer here.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RegexTokenizer, RemoveLongFilter, Stemmer,
    StopWordFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};
use unicode_normalization::UnicodeNormalization;

use super::stopwords;
use crate::domain::KbLanguage;

/// A word: a letter or digit, then letters, digits, combining marks and the zero-width
/// (non-)joiners that Indic and Persian spelling puts inside words.
const WORD: &str = r"[\p{Alphabetic}\p{N}][\p{Alphabetic}\p{N}\p{M}\p{Join_Control}]*";

/// Longer tokens are noise (hashes, URLs run together). In bytes: 40 characters of a
/// three-byte script such as Devanagari.
const MAX_TOKEN_BYTES: usize = 120;

/// The analyzer for a language other than English (English is built in `index`): with its
/// stop words removed (`stop`: the content words a topic is found by), or every word kept
/// (questions like "¿cómo puedo…?" keep their shape for the word and pair fields).
pub fn analyzer(language: KbLanguage, stop: bool) -> TextAnalyzer {
    let words = RegexTokenizer::new(WORD).expect("the word pattern compiles");
    let stop_words_as_written = stemmer_language(language)
        .filter(|_| stop)
        .and_then(StopWordFilter::new)
        .unwrap_or_else(|| StopWordFilter::remove(Vec::new()));
    let folded = TextAnalyzer::builder(words)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(Map(normalise))
        .filter(stop_words_as_written.clone())
        .filter(AsciiFoldingFilter)
        .filter(Map(drop_marks_on_latin))
        // Again, for "cómo" folded to "como".
        .filter(stop_words_as_written);
    let Some(stemming) = stemmer_language(language) else {
        return folded.build();
    };
    let after_folding = if stop {
        stopwords::after_folding(language)
    } else {
        Vec::new()
    };
    folded
        .filter(Map(spelling(language)))
        .filter(StopWordFilter::remove(after_folding))
        .filter(Map(before_stemming(language)))
        .filter(Stemmer::new(stemming))
        // The stemmer may hand back an accent step 6 put on.
        .filter(AsciiFoldingFilter)
        .build()
}

/// Words only lower-cased, normalised and folded, in any language: what character n-grams are
/// cut from.
pub fn plain() -> TextAnalyzer {
    let words = RegexTokenizer::new(WORD).expect("the word pattern compiles");
    TextAnalyzer::builder(words)
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(Map(normalise))
        .filter(AsciiFoldingFilter)
        .filter(Map(drop_marks_on_latin))
        .build()
}

/// tantivy's name for the language, for its stemmer and stop-word list.
fn stemmer_language(language: KbLanguage) -> Option<Language> {
    Some(match language {
        KbLanguage::English => Language::English,
        KbLanguage::Spanish => Language::Spanish,
        KbLanguage::Portuguese => Language::Portuguese,
        KbLanguage::French => Language::French,
        KbLanguage::German => Language::German,
        KbLanguage::Italian => Language::Italian,
        KbLanguage::Dutch => Language::Dutch,
        KbLanguage::Swedish => Language::Swedish,
        KbLanguage::Danish => Language::Danish,
        KbLanguage::Norwegian => Language::Norwegian,
        KbLanguage::Finnish => Language::Finnish,
        KbLanguage::Hungarian => Language::Hungarian,
        KbLanguage::Romanian => Language::Romanian,
        KbLanguage::Greek => Language::Greek,
        KbLanguage::Russian => Language::Russian,
        KbLanguage::Turkish => Language::Turkish,
        KbLanguage::Arabic => Language::Arabic,
        KbLanguage::Tamil => Language::Tamil,
        KbLanguage::None => return None,
    })
}

/// Step 2, for any script: one code point sequence per spelling.
fn normalise(text: &mut String) {
    if text.is_ascii() {
        return;
    }
    let mut out = String::with_capacity(text.len());
    // NFKC can produce capitals (mathematical letters), hence the second lower-casing.
    for c in text.nfkc().flat_map(char::to_lowercase) {
        match c {
            'ё' => out.push('е'),
            // Greek final sigma: "ΟΔΟΣ" lower-cases letter by letter to "οδοσ".
            'ς' => out.push('σ'),
            // Arabic vowel marks (tashkeel) and the tatweel that only stretches a word.
            '\u{064B}'..='\u{0652}' | '\u{0640}' => {}
            // Alef with hamza or madda, and wasla: customers write the plain alef; and a final
            // alef maqsura is as often written as a yeh.
            'أ' | 'إ' | 'آ' | 'ٱ' => out.push('ا'),
            'ى' => out.push('ي'),
            c => out.push(c),
        }
    }
    *text = out;
}

/// After folding, combining accents left on a Latin letter: the dot that lower-casing
/// Turkish "İ" leaves on the "i", or a mark NFKC had no precomposed letter for.
fn drop_marks_on_latin(text: &mut String) {
    if text.is_ascii() {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut after_latin = false;
    for c in text.chars() {
        if matches!(c, '\u{0300}'..='\u{036F}') && after_latin {
            continue;
        }
        after_latin = c.is_ascii_alphabetic();
        out.push(c);
    }
    *text = out;
}

/// Step 5: spellings of the same word a language allows.
fn spelling(language: KbLanguage) -> fn(&mut String) {
    match language {
        KbLanguage::German => german_umlaut_digraphs,
        _ => keep,
    }
}

/// Step 6: what the stemmer needs and does not do itself.
fn before_stemming(language: KbLanguage) -> fn(&mut String) {
    match language {
        KbLanguage::Spanish => spanish_suffix_accents,
        KbLanguage::Portuguese => portuguese_suffix_accents,
        KbLanguage::Arabic => arabic_article_prefixes,
        _ => keep,
    }
}

fn keep(_: &mut String) {}

/// "ae", "oe" and "ue" typed for "ä", "ö" and "ü" (already folded to "a", "o", "u"), as in
/// Lucene's German normalisation: the "e" goes after "a" and "o", and after a "u" that does
/// not follow a vowel or "q" (so "neue", "Feuer" and "Quelle" keep theirs).
fn german_umlaut_digraphs(text: &mut String) {
    if !text.contains('e') {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut umlaut = false;
    let mut vowel_before = false;
    for c in text.chars() {
        if c == 'e' && umlaut {
            umlaut = false;
            vowel_before = true;
            continue;
        }
        umlaut = match c {
            'a' | 'o' => true,
            'u' => !vowel_before,
            _ => false,
        };
        vowel_before = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'q');
        out.push(c);
    }
    *text = out;
}

/// Every Spanish word of more than one syllable ending in "-ion" is written "-ión"
/// ("información", "devolución", "camión").
fn spanish_suffix_accents(text: &mut String) {
    if text.len() > 4 && text.ends_with("ion") {
        text.truncate(text.len() - 3);
        text.push_str("ión");
    }
}

/// Portuguese nasal endings: "-ao", "-oes" and "-aes" are "-ão", "-ões" and "-ães", with a
/// cedilla before them where a "c" is ("informação", "cartões", "pães").
fn portuguese_suffix_accents(text: &mut String) {
    if text.len() <= 3 {
        return;
    }
    for (plain, accented) in [
        ("coes", "ções"),
        ("cao", "ção"),
        ("oes", "ões"),
        ("aes", "ães"),
        ("ao", "ão"),
    ] {
        if text.ends_with(plain) {
            text.truncate(text.len() - plain.len());
            text.push_str(accented);
            return;
        }
    }
}

/// "and the", "so the", "with the", "like the" (وال، فال، بال، كال), and "and for the" (ولل):
/// the Snowball stemmer takes the article off but leaves these, so "والشحن" would not meet
/// "الشحن". Reduced to the article it handles, as Lucene's light Arabic stemmer does.
fn arabic_article_prefixes(text: &mut String) {
    for (prefix, article) in [
        ("وال", "ال"),
        ("فال", "ال"),
        ("بال", "ال"),
        ("كال", "ال"),
        ("ولل", "لل"),
        ("فلل", "لل"),
    ] {
        if let Some(rest) = text.strip_prefix(prefix)
            && rest.chars().count() >= 2
        {
            *text = format!("{article}{rest}");
            return;
        }
    }
}

/// A token filter that rewrites each token's text with a plain function.
#[derive(Clone, Copy)]
struct Map(fn(&mut String));

impl TokenFilter for Map {
    type Tokenizer<T: Tokenizer> = MapTokenizer<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> MapTokenizer<T> {
        MapTokenizer { map: self.0, inner }
    }
}

#[derive(Clone)]
struct MapTokenizer<T> {
    map: fn(&mut String),
    inner: T,
}

impl<T: Tokenizer> Tokenizer for MapTokenizer<T> {
    type TokenStream<'a> = MapStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MapStream {
            map: self.map,
            tail: self.inner.token_stream(text),
        }
    }
}

struct MapStream<S> {
    map: fn(&mut String),
    tail: S,
}

impl<S: TokenStream> TokenStream for MapStream<S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        (self.map)(&mut self.tail.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(language: KbLanguage, text: &str) -> Vec<String> {
        let mut analyzer = analyzer(language, true);
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    fn same(language: KbLanguage, a: &str, b: &str) {
        assert_eq!(
            terms(language, a),
            terms(language, b),
            "{language}: {a:?} and {b:?} should analyse alike"
        );
        assert!(!terms(language, a).is_empty(), "{a:?} has no terms");
    }

    #[test]
    fn devanagari_words_stay_whole_through_virama_and_nukta() {
        // SimpleTokenizer would give "हिन", "दी" and "रिफ", "ंड".
        assert_eq!(
            terms(KbLanguage::None, "हिन्दी में रिफ़ंड"),
            ["हिन्दी", "में", "रिफ़ंड"]
        );
        assert_eq!(
            terms(KbLanguage::None, "क्या मुझे पैसे वापस मिलेंगे।"),
            ["क्या", "मुझे", "पैसे", "वापस", "मिलेंगे"]
        );
        assert_eq!(terms(KbLanguage::Tamil, "தமிழ்").len(), 1);
    }

    #[test]
    fn folding_leaves_other_scripts_alone() {
        for text in ["ёлка привет", "οδός", "استرداد", "हिन्दी", "١٢٣ १२३"]
        {
            let mut analyzer = TextAnalyzer::builder(RegexTokenizer::new(WORD).unwrap())
                .filter(AsciiFoldingFilter)
                .build();
            let mut stream = analyzer.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                out.push(stream.token().text.clone());
            }
            assert_eq!(out.join(" "), text);
        }
    }

    #[test]
    fn accents_and_case_fold_in_latin_languages() {
        same(KbLanguage::Spanish, "atención", "ATENCION");
        same(KbLanguage::Portuguese, "Não recebi", "nao recebi");
        same(KbLanguage::French, "délai", "delai");
        same(KbLanguage::Turkish, "İade", "iade");
        same(KbLanguage::Turkish, "ücretsiz", "UCRETSIZ");
        // Decomposed accents (as macOS writes them) meet composed ones.
        same(KbLanguage::Spanish, "atencio\u{0301}n", "atención");
    }

    #[test]
    fn spanish_and_portuguese_suffixes_meet_with_or_without_accents() {
        for word in ["información", "informacion", "informaciones", "INFORMACIÓN"] {
            same(KbLanguage::Spanish, word, "información");
        }
        for word in ["informação", "informacao", "informações", "informacoes"] {
            same(KbLanguage::Portuguese, word, "informação");
        }
        same(KbLanguage::Portuguese, "devolução", "devolucoes");
    }

    #[test]
    fn german_umlauts_may_be_typed_as_digraphs() {
        same(KbLanguage::German, "Rückerstattung", "Rueckerstattung");
        same(KbLanguage::German, "Größe", "Groesse");
        same(
            KbLanguage::German,
            "möchte Rückerstattung",
            "moechte Rueckerstattung",
        );
        // "ue" after a vowel or "q", and "e" after "au", are not umlauts.
        for (typed, read) in [
            ("rueckerstattung", "ruckerstattung"),
            ("groesse", "grosse"),
            ("kaese", "kase"),
            ("neue", "neue"),
            ("feuer", "feuer"),
            ("quelle", "quelle"),
            ("blaue", "blaue"),
        ] {
            let mut text = typed.to_owned();
            german_umlaut_digraphs(&mut text);
            assert_eq!(text, read);
        }
    }

    #[test]
    fn russian_yo_greek_sigma_and_arabic_marks_are_normalised() {
        same(KbLanguage::Russian, "ещё заказ", "еще заказ");
        same(KbLanguage::Greek, "ΟΔΟΣ", "οδός");
        same(KbLanguage::Greek, "ΑΠΟΣΤΟΛΗ", "αποστολές");
        same(KbLanguage::Arabic, "الاسْتِرْدَاد", "الاسترداد");
        same(KbLanguage::Arabic, "إرجاع", "ارجاع");
        same(KbLanguage::Arabic, "والشحن", "الشحن");
        same(KbLanguage::Arabic, "بالشحن", "شحن");
        same(KbLanguage::Arabic, "مستشفى", "مستشفي");
        // Presentation forms, as PDFs give them, are ordinary letters.
        same(KbLanguage::Arabic, "\u{FEB7}\u{FEA4}\u{FEE6}", "شحن");
    }

    #[test]
    fn question_wrappers_and_unaccented_stop_words_are_not_terms() {
        assert_eq!(
            terms(
                KbLanguage::Spanish,
                "Hola, ¿cómo puedo pedir un reembolso por favor?"
            ),
            terms(KbLanguage::Spanish, "pedir reembolso")
        );
        assert_eq!(
            terms(
                KbLanguage::Portuguese,
                "oi, voce pode me dizer quanto tempo demora a entrega?"
            ),
            terms(KbLanguage::Portuguese, "tempo demora entrega")
        );
        assert_eq!(
            terms(
                KbLanguage::Russian,
                "Здравствуйте, подскажите, пожалуйста, сколько стоит доставка?"
            ),
            terms(KbLanguage::Russian, "стоит доставка")
        );
        assert_eq!(
            terms(KbLanguage::Turkish, "Merhaba, kargo ücreti ne kadar?"),
            terms(KbLanguage::Turkish, "kargo ücreti")
        );
        assert_eq!(
            terms(KbLanguage::Arabic, "مرحبا، كيف يمكنني استرداد أموالي؟"),
            terms(KbLanguage::Arabic, "استرداد اموالي")
        );
    }

    #[test]
    fn none_lowercases_and_folds_but_does_not_stem() {
        assert_eq!(
            terms(KbLanguage::None, "Pengembalian DANA dikirim"),
            ["pengembalian", "dana", "dikirim"]
        );
        assert_eq!(terms(KbLanguage::None, "Café"), ["cafe"]);
    }
}
