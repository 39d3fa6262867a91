//! The trained human-request classifier: a logistic regression over the [`features`] of the
//! normalised text, and the threshold its probability must reach to count as a request.
//!
//! The weights file (`data/detector/model.tsv`, made by `baton train-detector`) is plain
//! tab-separated text so that a diff shows what retraining changed: `#` comment lines, then
//! `features`, `bias` and `threshold` lines, then one `feature<TAB>weight` line per kept
//! feature, sorted.
//!
//! A text's features come in two blocks, its character n-grams and its words, word pairs and
//! length; each feature counts `1/√n`, n the size of its block (known to the model or not).
//! So a long message is not a request merely for being long, and a word's dozen n-grams do
//! not outvote the word pair next to it ("are you" + "human" is a question, not a request).
//!
//! A message is scored whole and clause by clause ([`clauses`]), and its probability is the
//! highest: a request does not stop being one for being wrapped in a complaint.

use std::collections::HashMap;

use super::features::{VERSION, features};
use super::normalise;

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The logit of a message with no known feature.
    pub bias: f64,
    /// The probability from which a message counts as a request (chosen on a dev split).
    pub threshold: f64,
    pub weights: HashMap<String, f64>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("line {line}: {what}")]
    Line { line: usize, what: String },
    #[error("the weights file has no {0} line")]
    Missing(&'static str),
    #[error("the weights file was made for features {found:?}, this build computes {VERSION:?}")]
    Version { found: String },
}

impl Model {
    /// The logit of a normalised text: bias plus the weights of its features, each times its
    /// [`values`].
    pub fn logit(&self, normalised: &str) -> f64 {
        let features = features(normalised);
        if features.is_empty() {
            return self.bias;
        }
        let sum: f64 = features
            .iter()
            .zip(values(&features))
            .filter_map(|(f, x)| self.weights.get(f.as_str()).map(|w| w * x))
            .sum();
        self.bias + sum
    }

    /// How likely the (normalised) message is a request for a person, 0 to 1.
    pub fn probability(&self, normalised: &str) -> f64 {
        sigmoid(self.logit(normalised))
    }

    pub fn is_request(&self, normalised: &str) -> bool {
        self.probability(normalised) >= self.threshold
    }

    /// How likely a raw message is a request: the most likely of the whole message and each of
    /// its clauses (split at sentence punctuation), because a request inside a longer message —
    /// "this is useless, get me a real person" — is still a request, however much complaint
    /// surrounds it.
    pub fn message_probability(&self, text: &str) -> f64 {
        self.probability_of_pieces(text, |_| true)
    }

    /// The most likely of the message and its clauses, counting only the pieces that `read`
    /// keeps (it is given each piece normalised); 0 when it keeps none, and for a message with
    /// nothing to read (only punctuation or emoji).
    pub fn probability_of_pieces(&self, text: &str, read: impl Fn(&str) -> bool) -> f64 {
        std::iter::once(text)
            .chain(clauses(text))
            .map(normalise)
            .filter(|piece| !piece.is_empty() && read(piece))
            .map(|piece| self.probability(&piece))
            .fold(0.0, f64::max)
    }

    /// Whether a raw message is a request ([`Model::message_probability`]); empty text never is.
    pub fn is_request_message(&self, text: &str) -> bool {
        self.message_probability(text) >= self.threshold
    }

    pub fn parse(text: &str) -> Result<Model, ModelError> {
        let (mut bias, mut threshold, mut version) = (None, None, None);
        let mut weights = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: &str| ModelError::Line {
                line: i + 1,
                what: what.to_owned(),
            };
            let (key, value) = line
                .split_once('\t')
                .ok_or_else(|| bad("expected <name><TAB><value>"))?;
            let number = || {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad("the value is not a finite number"))
            };
            match key {
                "features" => version = Some(value.to_owned()),
                "bias" => bias = Some(number()?),
                "threshold" => threshold = Some(number()?),
                feature => {
                    if weights.insert(feature.to_owned(), number()?).is_some() {
                        return Err(bad("the feature appears twice"));
                    }
                }
            }
        }
        let version = version.ok_or(ModelError::Missing("features"))?;
        if version != VERSION {
            return Err(ModelError::Version { found: version });
        }
        Ok(Model {
            bias: bias.ok_or(ModelError::Missing("bias"))?,
            threshold: threshold.ok_or(ModelError::Missing("threshold"))?,
            weights,
        })
    }

    /// The weights file: `header` as comment lines, then the model, features sorted, numbers
    /// with fixed decimals, so the same model always gives the same bytes.
    pub fn to_tsv(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&format!(
            "features\t{VERSION}\nbias\t{:.6}\nthreshold\t{:.6}\n",
            self.bias, self.threshold
        ));
        let mut sorted: Vec<(&String, &f64)> = self.weights.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        for (feature, weight) in sorted {
            out.push_str(&format!("{feature}\t{}\n", weight_text(*weight)));
        }
        out
    }
}

/// A weight as written: four decimals, which is far finer than the model's accuracy.
pub fn weight_text(weight: f64) -> String {
    let text = format!("{weight:.4}");
    if text == "-0.0000" {
        "0.0000".to_owned()
    } else {
        text
    }
}

/// The clauses of a message with more than one: the pieces between sentence punctuation
/// (Latin, Arabic and Devanagari), each with at least one letter.
pub fn clauses(text: &str) -> impl Iterator<Item = &str> {
    let pieces: Vec<&str> = text
        .split(|c: char| {
            matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | '¡' | '¿' | '…' | '\n' | '،' | '؛' | '؟' | '।'
            )
        })
        .filter(|p| p.chars().any(char::is_alphanumeric))
        .collect();
    let several = pieces.len() > 1;
    pieces.into_iter().filter(move |_| several)
}

/// What each of a message's features counts for: `1/√n`, n the size of its block (character
/// n-grams, or words, pairs and length), so each block weighs the same however many
/// features it has.
pub fn values(features: &[String]) -> Vec<f64> {
    let chars = features.iter().filter(|f| f.starts_with("c:")).count();
    let (c, w) = (scale(chars), scale(features.len() - chars));
    features
        .iter()
        .map(|f| if f.starts_with("c:") { c } else { w })
        .collect()
}

/// What each of `n` features of a block counts for.
fn scale(n: usize) -> f64 {
    1.0 / (n.max(1) as f64).sqrt()
}

pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Model {
        Model {
            bias: -2.0,
            threshold: 0.5,
            weights: HashMap::from([
                ("w:agent".to_owned(), 20.0),
                ("w:code".to_owned(), -20.0),
                ("w:useless".to_owned(), -20.0),
            ]),
        }
    }

    #[test]
    fn the_file_round_trips() {
        let model = tiny();
        let text = model.to_tsv("made by a test\nsecond line");
        assert!(text.starts_with("# made by a test\n# second line\nfeatures\t"));
        let back = Model::parse(&text).unwrap();
        assert_eq!(back, model);
        assert_eq!(back.to_tsv("made by a test\nsecond line"), text);
    }

    #[test]
    fn features_push_the_probability_each_way() {
        let model = tiny();
        // "w:agent" is one of the word block's n features: +20/√n over the bias.
        let words = features("agent")
            .iter()
            .filter(|f| !f.starts_with("c:"))
            .count();
        let expected = -2.0 + 20.0 / (words as f64).sqrt();
        assert!((model.logit("agent") - expected).abs() < 1e-9);
        assert!(model.is_request("agent"));
        assert!(!model.is_request("agent code"));
        assert!(!model.is_request(""));
        assert!((model.probability("") - sigmoid(-2.0)).abs() < 1e-12);
    }

    #[test]
    fn each_block_of_features_weighs_the_same() {
        let f = features("are you human");
        let v = values(&f);
        let chars: f64 = f
            .iter()
            .zip(&v)
            .filter(|(f, _)| f.starts_with("c:"))
            .map(|(_, x)| x * x)
            .sum();
        let words: f64 = f
            .iter()
            .zip(&v)
            .filter(|(f, _)| !f.starts_with("c:"))
            .map(|(_, x)| x * x)
            .sum();
        assert!((chars - 1.0).abs() < 1e-9 && (words - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_request_wrapped_in_a_complaint_is_found_in_its_clause() {
        let model = tiny();
        assert_eq!(
            clauses("this is useless, agent! now").collect::<Vec<_>>(),
            ["this is useless", " agent", " now"]
        );
        // Whole, the complaint drowns the request; its clause does not.
        let whole = model.probability(&normalise("this is useless, agent! now"));
        assert!(whole < 0.5);
        assert!(model.is_request_message("this is useless, agent! now"));
        // One clause is the whole message; nothing readable is nothing.
        assert_eq!(clauses("agent please").count(), 0);
        assert_eq!(clauses("?!, 😡").count(), 0);
        assert!(!model.is_request_message("?! 😡"));
        // Arabic and Devanagari punctuation split too.
        assert_eq!(clauses("ما في فايدة، موظف").count(), 2);
        assert_eq!(clauses("बॉट नहीं। एजेंट").count(), 2);
    }

    #[test]
    fn a_broken_or_foreign_file_is_refused() {
        assert_eq!(
            Model::parse("bias\t1\n"),
            Err(ModelError::Missing("features"))
        );
        let other = "features\tsomething-else\nbias\t0\nthreshold\t0.5\n";
        assert!(matches!(
            Model::parse(other),
            Err(ModelError::Version { .. })
        ));
        let text = format!("features\t{VERSION}\nbias\t0\nthreshold\t0.5\nw:a\tNaN\n");
        assert!(matches!(
            Model::parse(&text),
            Err(ModelError::Line { line: 4, .. })
        ));
        let text = format!("features\t{VERSION}\nbias\t0\nthreshold\t0.5\nw:a\t1\nw:a\t2\n");
        assert!(Model::parse(&text).is_err());
    }

    #[test]
    fn weights_are_written_with_four_decimals_and_no_negative_zero() {
        assert_eq!(weight_text(0.123456), "0.1235");
        assert_eq!(weight_text(-0.00001), "0.0000");
        assert_eq!(weight_text(-1.5), "-1.5000");
    }
}
