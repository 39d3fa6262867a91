//! The trained human-request classifier: a logistic regression over the [`features`] of the
//! normalised text, and the threshold its probability must reach to count as a request.
//!
//! The weights file (`data/detector/model.tsv`, made by `baton train-detector`) is plain
//! tab-separated text so that a diff shows what retraining changed: `#` comment lines, then
//! `features`, `bias` and `threshold` lines, then one `feature<TAB>weight` line per kept
//! feature, sorted. A message's features each count `1/√n` (n = how many distinct features it
//! has, known to the model or not), so a long message is not a request merely for being long.

use std::collections::HashMap;

use super::features::{VERSION, features};

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
    /// The logit: bias plus the weights of the message's features, each scaled by `1/√n`.
    pub fn logit(&self, normalised: &str) -> f64 {
        let features = features(normalised);
        if features.is_empty() {
            return self.bias;
        }
        let sum: f64 = features
            .iter()
            .filter_map(|f| self.weights.get(f.as_str()))
            .sum();
        self.bias + sum * scale(features.len())
    }

    /// How likely the (normalised) message is a request for a person, 0 to 1.
    pub fn probability(&self, normalised: &str) -> f64 {
        sigmoid(self.logit(normalised))
    }

    pub fn is_request(&self, normalised: &str) -> bool {
        self.probability(normalised) >= self.threshold
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

/// What each feature of a message with `n` distinct features counts for.
pub fn scale(n: usize) -> f64 {
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
            weights: HashMap::from([("w:agent".to_owned(), 20.0), ("w:code".to_owned(), -20.0)]),
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
        // One known feature among n: +20/√n over the bias.
        let n = features("agent").len();
        assert!((model.logit("agent") - (-2.0 + 20.0 / (n as f64).sqrt())).abs() < 1e-9);
        assert!(model.is_request("agent"));
        assert!(!model.is_request("agent code"));
        assert!(!model.is_request(""));
        assert!((model.probability("") - sigmoid(-2.0)).abs() < 1e-12);
    }

    #[test]
    fn a_broken_or_foreign_file_is_refused() {
        assert_eq!(Model::parse("bias\t1\n"), Err(ModelError::Missing("features")));
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
