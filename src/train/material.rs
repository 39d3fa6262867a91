//! What `baton train-detector` learns from — training splits only, never a file `baton eval`
//! tests on:
//!
//! * **Bitext** `bitext_llm_training_sample_4514.csv` and `bitext_utterances_sample_21534.csv`:
//!   `contact_human_agent` rows are requests; the other intents are not, except
//!   `contact_customer_service`, which mixes "can I speak with customer support?" with "what's
//!   the customer service email?". Its rows are relabelled by one rule
//!   ([`customer_service_label`]): asking for a contact detail (email, phone, number, hours…)
//!   is not a request; otherwise talking, speaking or chatting with customer service is; the
//!   rest ("how do I contact customer service?") is left out as ambiguous.
//! * **HINT3 v2 train** (all three bots): the agent-labelled rows as hand-relabelled in
//!   `data/detector/hint3_train_relabel.csv` (those bots routed complaints to the agent node);
//!   every other row, `CALL_CENTER` and `CONTACT_NUMBER` included, is not a request, except
//!   three sofmattress `LEAD_GEN` rows that ask for an agent (`data/detector/train_noise.csv`).
//! * **CLINC150** `data_full` `train` and `oos_train`, and **BANKING77** `train`: not requests
//!   (CLINC150's `are_you_a_bot` questions weigh like hand-written examples, see [`clinc150`]),
//!   except the few rows `data/detector/train_noise.csv` relabels ("who can I talk to about…",
//!   "I need to speak to customer service…") or leaves out as ambiguous ("can someone help me
//!   with my pin?", "who do I contact if…").
//! * **`data/detector/examples.tsv`**: hand-written requests and hard non-requests in all 11
//!   languages, the only non-English material; each row weighs [`EXAMPLE_WEIGHT`].
//!
//! Texts are compared after [`normalise`]; a text seen twice with the same label is kept once,
//! a text seen with both labels is dropped.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::bot::detect::normalise;
use crate::eval::hint3::parse_relabel;
use crate::eval::{EvalError, read_csv_pairs, read_json, read_text};

/// The languages the hand-written files must cover, as ISO 639-1 codes.
pub const LANGUAGES: &[&str] = &[
    "en", "es", "pt", "fr", "de", "it", "id", "hi", "ar", "tr", "ru",
];

/// How much a hand-written example counts in training, whatever its class; a dataset row
/// counts about 0.9, or about 4.7 if it is a request (see `train::Settings::balance`). The
/// hand-written examples are balanced by construction and are all there is for ten of the
/// eleven languages, so each counts like a handful of dataset rows.
pub const EXAMPLE_WEIGHT: f64 = 6.0;

/// One message to learn from.
#[derive(Debug, Clone)]
pub struct Example {
    /// The original text (the features are computed from its normalised form).
    pub text: String,
    pub normalised: String,
    pub positive: bool,
    /// Where it comes from: "bitext", "hint3", "clinc150", "clinc150:are_you_a_bot",
    /// "banking77" or "examples:<lang>".
    pub source: String,
    /// Hand-written (`examples.tsv`), or one of CLINC150's `are_you_a_bot` questions: weighs
    /// [`EXAMPLE_WEIGHT`] whatever its class. Other dataset rows are weighed to balance the
    /// classes instead.
    pub curated: bool,
}

/// What one source gave.
#[derive(Debug, Clone, Default)]
pub struct SourceCount {
    pub name: String,
    pub rows: usize,
    pub positives: usize,
    pub negatives: usize,
    /// Rows left out as ambiguous.
    pub left_out: usize,
    /// Rows whose label was changed (relabelled by hand or by the customer-service rule).
    pub relabelled: usize,
}

#[derive(Debug, Default)]
pub struct Material {
    pub examples: Vec<Example>,
    pub sources: Vec<SourceCount>,
    /// Texts seen again with the same label (kept once).
    pub duplicates: usize,
    /// Texts seen with both labels (dropped).
    pub conflicts: usize,
}

/// A line of a hand-written file (`examples.tsv`, `multilingual_check.tsv`).
#[derive(Debug, Clone, PartialEq)]
pub struct Handwritten {
    pub positive: bool,
    pub language: String,
    pub text: String,
}

/// Reads every training source: the public ones from `data` (the eval-data folder), the
/// hand-written ones from `own` (`data/detector`).
pub fn load(data: &Path, own: &Path) -> Result<Material, EvalError> {
    if !data.join("bitext").is_dir() {
        return Err(EvalError::NoData(data.to_owned()));
    }
    let mut material = Builder::default();
    bitext(data, &mut material)?;
    let noise = noise(own)?;
    hint3(data, own, &noise, &mut material)?;
    clinc150(data, &noise, &mut material)?;
    banking77(data, &noise, &mut material)?;
    let path = own.join("examples.tsv");
    let examples = parse_handwritten(&read_text(&path)?).map_err(|what| EvalError::Format {
        path: path.clone(),
        what,
    })?;
    for language in LANGUAGES {
        let count = SourceCount {
            name: format!("examples.tsv ({language})"),
            ..SourceCount::default()
        };
        let rows = examples.iter().filter(|e| e.language == *language);
        material.source(
            count,
            rows.map(|e| (e.text.as_str(), Some(e.positive), false)),
        );
        material.tag(&format!("examples:{language}"), true);
    }
    Ok(material.finish())
}

/// Parses a hand-written TSV: `#` comments, a `label<TAB>language<TAB>text` header, then rows
/// labelled `request` or `other` in one of [`LANGUAGES`].
pub fn parse_handwritten(tsv: &str) -> Result<Vec<Handwritten>, String> {
    let mut rows = Vec::new();
    let mut header = false;
    for (i, line) in tsv.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if !header {
            if fields != ["label", "language", "text"] {
                return Err(format!(
                    "line {}: expected the header label<TAB>language<TAB>text",
                    i + 1
                ));
            }
            header = true;
            continue;
        }
        let [label, language, text] = fields[..] else {
            return Err(format!(
                "line {}: expected three tab-separated fields",
                i + 1
            ));
        };
        let positive = match label {
            "request" => true,
            "other" => false,
            other => {
                return Err(format!(
                    "line {}: the label must be request or other, not {other:?}",
                    i + 1
                ));
            }
        };
        if !LANGUAGES.contains(&language) {
            return Err(format!("line {}: unknown language {language:?}", i + 1));
        }
        if text.trim().is_empty() {
            return Err(format!("line {}: empty text", i + 1));
        }
        rows.push(Handwritten {
            positive,
            language: language.to_owned(),
            text: text.to_owned(),
        });
    }
    Ok(rows)
}

/// The label of a Bitext `contact_customer_service` row: `Some(false)` when it asks for a
/// contact detail, `Some(true)` when it asks to talk, speak or chat (with customer service,
/// a request for the people behind it), `None` — left out — otherwise.
pub fn customer_service_label(normalised: &str) -> Option<bool> {
    const DETAILS: &[&str] = &[
        "email",
        "emails",
        "e-mail",
        "mail",
        "phone",
        "telephone",
        "number",
        "hours",
        "hour",
        "time",
        "address",
        "website",
        "site",
        "web",
        "page",
        "available",
        "open",
        "opening",
        "schedule",
        "when",
    ];
    const TALK: &[&str] = &["talk", "speak", "chat"];
    let words: Vec<&str> = normalised.split(' ').collect();
    if words.iter().any(|w| DETAILS.contains(w)) {
        Some(false)
    } else if words.iter().any(|w| TALK.iter().any(|t| w.starts_with(t))) {
        Some(true)
    } else {
        None
    }
}

fn bitext(dir: &Path, material: &mut Builder) -> Result<(), EvalError> {
    let dir = dir.join("bitext");
    for (file, column) in [
        ("bitext_llm_training_sample_4514.csv", "instruction"),
        ("bitext_utterances_sample_21534.csv", "utterance"),
    ] {
        let rows = read_csv_pairs(&dir.join(file), column, "intent")?;
        let count = SourceCount {
            name: format!("Bitext {file}"),
            ..SourceCount::default()
        };
        material.source(
            count,
            rows.iter().map(|(text, intent)| match intent.as_str() {
                "contact_human_agent" => (text.as_str(), Some(true), false),
                "contact_customer_service" => {
                    let label = customer_service_label(&normalise(text));
                    (text.as_str(), label, label == Some(true))
                }
                _ => (text.as_str(), Some(false), false),
            }),
        );
        material.tag("bitext", false);
    }
    Ok(())
}

fn hint3(dir: &Path, own: &Path, noise: &Noise, material: &mut Builder) -> Result<(), EvalError> {
    const AGENT_LABELS: &[&str] = &["CHAT_WITH_AGENT", "CHAT_WITH_AN_AGENT"];
    let relabel_path = own.join("hint3_train_relabel.csv");
    let relabel = parse_relabel(&read_text(&relabel_path)?, &relabel_path)?;
    for bot in ["curekart", "powerplay11", "sofmattress"] {
        let path = dir.join(format!("hint3/v2/train/{bot}_train.csv"));
        let rows = read_csv_pairs(&path, "sentence", "label")?;
        let mut labelled = Vec::with_capacity(rows.len());
        for (text, label) in &rows {
            if AGENT_LABELS.contains(&label.as_str()) {
                let explicit = relabel
                    .get(&(bot.to_owned(), text.clone()))
                    .copied()
                    .ok_or_else(|| EvalError::Format {
                        path: relabel_path.clone(),
                        what: format!("agent-labelled train row {text:?} ({bot}) is missing"),
                    })?;
                labelled.push((text.as_str(), Some(explicit), !explicit));
            } else {
                labelled.push(negative_unless_noted(noise, "hint3", text));
            }
        }
        let count = SourceCount {
            name: format!("HINT3 v2 {bot}_train.csv"),
            ..SourceCount::default()
        };
        material.source(count, labelled.into_iter());
        material.tag("hint3", false);
    }
    Ok(())
}

/// `(source, text)` → `Some(true)` (a request after all) or `None` (left out).
type Noise = HashMap<(String, String), Option<bool>>;

fn noise(own: &Path) -> Result<Noise, EvalError> {
    let path = own.join("train_noise.csv");
    let rows = read_csv_pairs(&path, "text", "decision")?;
    let sources = read_csv_pairs(&path, "source", "decision")?;
    let mut noise = Noise::new();
    for ((text, decision), (source, _)) in rows.into_iter().zip(sources) {
        let verdict = match decision.as_str() {
            "positive" => Some(true),
            "drop" => None,
            other => {
                return Err(EvalError::Format {
                    path,
                    what: format!("decision must be positive or drop, not {other:?}"),
                });
            }
        };
        noise.insert((source, text), verdict);
    }
    Ok(noise)
}

/// The label of a negatives-only dataset's row, after the noise file.
fn negative_unless_noted<'a>(
    noise: &Noise,
    source: &str,
    text: &'a str,
) -> (&'a str, Option<bool>, bool) {
    match noise.get(&(source.to_owned(), text.to_owned())) {
        Some(verdict) => (text, *verdict, verdict.is_some()),
        None => (text, Some(false), false),
    }
}

/// CLINC150's `are_you_a_bot` questions ("am I talking to a real person?") are the one public
/// set of the non-requests the SPEC names; in the class-balanced weighting each would count
/// about 0.9 against 4.6 for the many requests that share their words, so they are kept apart
/// and weigh like hand-written examples.
fn clinc150(dir: &Path, noise: &Noise, material: &mut Builder) -> Result<(), EvalError> {
    let path = dir.join("clinc150/data_full.json");
    let splits: HashMap<String, Vec<(String, String)>> = read_json(&path)?;
    let mut rows = Vec::new();
    for split in ["train", "oos_train"] {
        let split = splits.get(split).ok_or_else(|| EvalError::Format {
            path: path.clone(),
            what: format!("no {split:?} split"),
        })?;
        rows.extend(split.iter());
    }
    for identity in [true, false] {
        let count = SourceCount {
            name: match identity {
                true => "CLINC150 train are_you_a_bot",
                false => "CLINC150 train (other intents) + oos_train",
            }
            .to_owned(),
            ..SourceCount::default()
        };
        let rows = rows
            .iter()
            .filter(|(_, intent)| (intent == "are_you_a_bot") == identity);
        material.source(
            count,
            rows.map(|(text, _)| negative_unless_noted(noise, "clinc150", text)),
        );
        material.tag(
            if identity {
                "clinc150:are_you_a_bot"
            } else {
                "clinc150"
            },
            identity,
        );
    }
    Ok(())
}

fn banking77(dir: &Path, noise: &Noise, material: &mut Builder) -> Result<(), EvalError> {
    let rows = read_csv_pairs(&dir.join("banking77/train.csv"), "text", "category")?;
    let count = SourceCount {
        name: "BANKING77 train".to_owned(),
        ..SourceCount::default()
    };
    material.source(
        count,
        rows.iter()
            .map(|(text, _)| negative_unless_noted(noise, "banking77", text)),
    );
    material.tag("banking77", false);
    Ok(())
}

/// Collects sources in order, deduplicating on the normalised text.
#[derive(Default)]
struct Builder {
    material: Material,
    /// normalised text → index in `examples`.
    seen: HashMap<String, usize>,
    /// Examples seen with both labels, dropped at the end.
    conflicted: HashSet<usize>,
    /// Where the untagged examples of the latest source start.
    untagged: usize,
}

impl Builder {
    /// Adds one source's rows: `(text, label, relabelled)`, a `None` label meaning left out.
    fn source<'a>(
        &mut self,
        mut count: SourceCount,
        rows: impl Iterator<Item = (&'a str, Option<bool>, bool)>,
    ) {
        for (text, label, relabelled) in rows {
            count.rows += 1;
            count.relabelled += usize::from(relabelled);
            let Some(positive) = label else {
                count.left_out += 1;
                continue;
            };
            let normalised = normalise(text);
            if normalised.is_empty() {
                count.left_out += 1;
                continue;
            }
            if positive {
                count.positives += 1;
            } else {
                count.negatives += 1;
            }
            match self.seen.get(&normalised) {
                None => {
                    self.seen
                        .insert(normalised.clone(), self.material.examples.len());
                    self.material.examples.push(Example {
                        text: text.to_owned(),
                        normalised,
                        positive,
                        source: String::new(),
                        curated: false,
                    });
                }
                Some(&i) => {
                    if self.material.examples[i].positive == positive
                        || self.conflicted.contains(&i)
                    {
                        self.material.duplicates += 1;
                    } else {
                        self.material.conflicts += 1;
                        self.conflicted.insert(i);
                    }
                }
            }
        }
        self.material.sources.push(count);
    }

    /// Names the source of every example added since the last tag.
    fn tag(&mut self, source: &str, curated: bool) {
        for example in &mut self.material.examples[self.untagged..] {
            example.source = source.to_owned();
            example.curated = curated;
        }
        self.untagged = self.material.examples.len();
    }

    fn finish(mut self) -> Material {
        let mut i = 0;
        self.material.examples.retain(|_| {
            i += 1;
            !self.conflicted.contains(&(i - 1))
        });
        self.material
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_service_rows_split_into_details_talk_and_left_out() {
        let label = |t: &str| customer_service_label(&normalise(t));
        assert_eq!(label("what's the customer service email?"), Some(false));
        assert_eq!(
            label("what hours can I talk to customer support"),
            Some(false)
        );
        assert_eq!(label("I need to speak with Customer Service"), Some(true));
        assert_eq!(label("help me talking to client service"), Some(true));
        assert_eq!(label("how do I contact customer service"), None);
    }

    #[test]
    fn hand_written_files_are_checked() {
        let ok = "# comment\nlabel\tlanguage\ttext\nrequest\tes\thumano ya\nother\tru\tты бот?\n";
        let rows = parse_handwritten(ok).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].positive && !rows[1].positive);
        assert!(parse_handwritten("label\tlanguage\ttext\nyes\ten\thi\n").is_err());
        assert!(parse_handwritten("label\tlanguage\ttext\nrequest\txx\thi\n").is_err());
        assert!(parse_handwritten("request\ten\thi\n").is_err());
        assert!(parse_handwritten("label\tlanguage\ttext\nrequest\ten\n").is_err());
    }

    #[test]
    fn duplicates_are_kept_once_and_conflicts_dropped() {
        let mut b = Builder::default();
        b.source(
            SourceCount::default(),
            [
                ("Talk to a human!", Some(true), false),
                ("talk to a human", Some(true), false),
                ("where is my order", Some(false), false),
                ("Agent", Some(true), false),
                ("agent", Some(false), false),
                ("unclear", None, false),
                ("?!", Some(false), false),
            ]
            .into_iter(),
        );
        b.tag("test", true);
        let m = b.finish();
        let texts: Vec<&str> = m.examples.iter().map(|e| e.normalised.as_str()).collect();
        assert_eq!(texts, ["talk to a human", "where is my order"]);
        assert_eq!((m.duplicates, m.conflicts), (1, 1));
        assert_eq!(m.sources[0].left_out, 2);
        assert!(m.examples.iter().all(|e| e.source == "test" && e.curated));
    }

    #[test]
    fn the_shipped_hand_written_files_parse_and_cover_every_language() {
        let checks = crate::eval::multilingual::CHECKS.map(|c| c.tsv);
        for tsv in [EXAMPLES_TSV].iter().chain(&checks) {
            let rows = parse_handwritten(tsv).unwrap();
            for language in LANGUAGES {
                for positive in [true, false] {
                    assert!(
                        rows.iter()
                            .any(|r| r.language == *language && r.positive == positive),
                        "{language} {positive}"
                    );
                }
            }
        }
    }

    /// The held-out checks stay held out: none of their texts is a training example.
    #[test]
    fn no_held_out_check_text_is_a_training_example() {
        let trained: HashSet<String> = parse_handwritten(EXAMPLES_TSV)
            .unwrap()
            .iter()
            .map(|r| normalise(&r.text))
            .collect();
        for check in crate::eval::multilingual::CHECKS {
            for row in parse_handwritten(check.tsv).unwrap() {
                assert!(
                    !trained.contains(&normalise(&row.text)),
                    "{}: {:?} is in examples.tsv",
                    check.path,
                    row.text
                );
            }
        }
    }

    const EXAMPLES_TSV: &str = include_str!("../../data/detector/examples.tsv");
}
