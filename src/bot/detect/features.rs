//! What the human-request classifier sees of a message: the features of its normalised text
//! (see [`normalise`](super::normalise)). Training (`baton train-detector`) and the live detector
//! both call [`features`], so the two can never drift apart; [`VERSION`] is written into the
//! weights file and checked on load, and must change whenever this function does.
//!
//! * **Character n-grams** of 2 to 5 characters inside each word, the word padded with `<` and
//!   `>`: they carry typos ("agnet" shares "<ag", "ag", "et>" with "agent"), inflections
//!   ("оператором", "temsilcisiyle") and scripts without spaces between affixes (Arabic
//!   "بموظف"), without a word list per language.
//! * **Words and word pairs**, with `^` and `$` marking the start and end of the message:
//!   "talk to", "a human", "^ agent" say more together than their letters do.
//! * **Length**: one feature for the number of words, bucketed, because a role named almost
//!   alone ("agent", "оператор") is a request, and the same word in a long sentence may not be.

/// The feature scheme's name, stored in the weights file.
pub const VERSION: &str = "char2-5+word1-2+len/blocks/v1";

const MIN_GRAM: usize = 2;
const MAX_GRAM: usize = 5;

/// The distinct features of a normalised message, sorted. Empty text has none.
pub fn features(normalised: &str) -> Vec<String> {
    let words: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(words.len() * 20);
    for word in &words {
        let padded: Vec<char> = std::iter::once('<')
            .chain(word.chars())
            .chain(std::iter::once('>'))
            .collect();
        for n in MIN_GRAM..=MAX_GRAM.min(padded.len()) {
            for gram in padded.windows(n) {
                let mut feature = String::with_capacity(2 + 4 * n);
                feature.push_str("c:");
                feature.extend(gram);
                out.push(feature);
            }
        }
        out.push(format!("w:{word}"));
    }
    let bounded: Vec<&str> = std::iter::once("^")
        .chain(words.iter().copied())
        .chain(std::iter::once("$"))
        .collect();
    for pair in bounded.windows(2) {
        out.push(format!("b:{} {}", pair[0], pair[1]));
    }
    out.push(format!("len:{}", length_bucket(words.len())));
    out.sort_unstable();
    out.dedup();
    out
}

fn length_bucket(words: usize) -> &'static str {
    match words {
        0 | 1 => "1",
        2 => "2",
        3 | 4 => "3-4",
        5..=8 => "5-8",
        9..=16 => "9-16",
        _ => "17+",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_gives_its_padded_ngrams_itself_and_its_boundaries() {
        let f = features("cs");
        assert_eq!(
            f,
            [
                "b:^ cs", "b:cs $", "c:<c", "c:<cs", "c:<cs>", "c:cs", "c:cs>", "c:s>", "len:1",
                "w:cs"
            ]
        );
    }

    #[test]
    fn ngrams_stay_inside_words_and_count_characters_not_bytes() {
        let f = features("хочу оператора");
        assert!(f.contains(&"c:<опе".to_owned()), "{f:?}");
        assert!(f.contains(&"b:хочу оператора".to_owned()));
        // No gram spans the space between two words.
        assert!(f.iter().all(|g| !g.starts_with("c:") || !g.contains(' ')));
        assert!(f.contains(&"len:2".to_owned()));
    }

    #[test]
    fn features_are_distinct_and_sorted() {
        let f = features("agent agent agent");
        let mut sorted = f.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(f, sorted);
        assert!(f.contains(&"b:agent agent".to_owned()));
        assert!(features("").is_empty());
    }
}
