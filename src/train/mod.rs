//! `baton train-detector`: trains the human-request classifier the live bot uses
//! ([`crate::bot::detect`]) and writes its weights file, `data/detector/model.tsv`, which the
//! binary compiles in. Anyone can retrain: the result is the same file, byte for byte.
//!
//! It reads training material only ([`material`]): the train splits of the public datasets
//! and the hand-written `data/detector/examples.tsv`, never a file `baton eval` tests on. A
//! fixed 15 % of the texts (chosen by a hash of the text, so the same every time) is held out
//! as a dev split: the model is trained on the rest, and the decision threshold is the one
//! with the best F1 on dev. The model measured on dev is the model shipped.
//!
//! [`logistic`] is the learner; the features are [`crate::bot::detect::features`].

pub mod logistic;
pub mod material;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use crate::bot::detect::features::features;
use crate::bot::detect::model::{Model, scale, weight_text};
use crate::eval::EvalError;
use crate::eval::metrics::Confusion;
use logistic::{Params, Sample};
use material::{Example, Material};

#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// The eval-data folder (the one with README.md, bitext/, hint3/ …); only its training
    /// files are read.
    #[arg(long, env = "BATON_EVAL_DATA", default_value = "../shared/eval-data")]
    pub data: PathBuf,
    /// The folder with the hand-written material (examples.tsv, hint3_train_relabel.csv,
    /// train_noise.csv).
    #[arg(long, default_value = "data/detector")]
    pub material: PathBuf,
    /// Where to write the weights.
    #[arg(long, default_value = "data/detector/model.tsv")]
    pub out: PathBuf,
    /// Also print up to this many dev-split mistakes of each kind.
    #[arg(long, default_value_t = 0)]
    pub show_errors: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] EvalError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Everything that decides the weights. Changing any of these changes the file.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Share of texts (per cent) held out as the dev split.
    pub dev_percent: u64,
    /// A feature must occur in this many training texts to get a weight.
    pub min_count: usize,
    /// Weights smaller than this (in absolute value) are dropped from the file.
    pub prune_below: f64,
    pub params: Params,
}

pub const SETTINGS: Settings = Settings {
    dev_percent: 15,
    min_count: 2,
    prune_below: 0.02,
    params: Params {
        epochs: 12,
        l2: 2e-6,
        eta0: 0.2,
        seed: 6,
    },
};

/// The trained model and how it did.
pub struct Outcome {
    pub model: Model,
    pub train: Confusion,
    pub dev: Confusion,
    /// Dev decisions per source.
    pub dev_by_source: BTreeMap<String, Confusion>,
    pub dev_errors: Vec<(bool, String)>,
    pub train_size: (usize, usize),
    pub dev_size: (usize, usize),
    pub features_seen: usize,
    pub features_trained: usize,
    pub epoch_loss: Vec<f64>,
}

/// `baton train-detector`.
pub fn run(args: &TrainArgs) -> Result<(), TrainError> {
    let started = Instant::now();
    let material = material::load(&args.data, &args.material)?;
    print!("{}", material_lines(&material));
    let outcome = train(&material.examples, &SETTINGS);
    let tsv = outcome.model.to_tsv(&header(&outcome));
    std::fs::write(&args.out, &tsv).map_err(|source| TrainError::Write {
        path: args.out.clone(),
        source,
    })?;
    print!("{}", outcome_lines(&outcome));
    if args.show_errors > 0 {
        print!("{}", error_lines(&outcome.dev_errors, args.show_errors));
    }
    println!(
        "wrote {} ({} weights, {:.0} KiB) in {:.1} s",
        args.out.display(),
        outcome.model.weights.len(),
        tsv.len() as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Trains on the non-dev texts, prunes, picks the threshold on dev.
pub fn train(examples: &[Example], settings: &Settings) -> Outcome {
    let (dev, training): (Vec<&Example>, Vec<&Example>) = examples
        .iter()
        .partition(|e| is_dev(&e.normalised, settings.dev_percent));
    let featurised: Vec<Vec<String>> = training.iter().map(|e| features(&e.normalised)).collect();

    // Features seen in at least `min_count` training texts, numbered in sorted order.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for f in featurised.iter().flatten() {
        *counts.entry(f.as_str()).or_default() += 1;
    }
    let features_seen = counts.len();
    let mut kept: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n >= settings.min_count)
        .map(|(f, _)| *f)
        .collect();
    kept.sort_unstable();
    let index: HashMap<&str, u32> = kept.iter().enumerate().map(|(i, f)| (*f, i as u32)).collect();

    // Each class weighs as much in all as the other ("balanced"), times the source's weight.
    let positives = training.iter().filter(|e| e.positive).count();
    let negatives = training.len() - positives;
    let class_weight = |positive: bool| {
        let n = if positive { positives } else { negatives };
        training.len() as f64 / (2.0 * n.max(1) as f64)
    };
    let samples: Vec<Sample> = training
        .iter()
        .zip(&featurised)
        .map(|(e, fs)| {
            let x = scale(fs.len());
            Sample {
                features: fs
                    .iter()
                    .filter_map(|f| index.get(f.as_str()).map(|&j| (j, x)))
                    .collect(),
                positive: e.positive,
                weight: class_weight(e.positive) * e.weight,
            }
        })
        .collect();
    let fit = logistic::train(&samples, kept.len(), &settings.params);

    // What the file will hold: pruned, rounded as written.
    let weights: HashMap<String, f64> = kept
        .iter()
        .zip(&fit.weights)
        .filter(|(_, w)| w.abs() >= settings.prune_below)
        .map(|(f, w)| ((*f).to_owned(), weight_text(*w).parse().unwrap_or(0.0)))
        .collect();
    let mut model = Model {
        bias: format!("{:.6}", fit.bias).parse().unwrap_or(fit.bias),
        threshold: 0.5,
        weights,
    };
    let dev_scores: Vec<(f64, bool)> = dev
        .iter()
        .map(|e| (model.probability(&e.normalised), e.positive))
        .collect();
    model.threshold = best_threshold(&dev_scores);
    // The threshold as the file will hold it.
    model.threshold = format!("{:.6}", model.threshold).parse().unwrap_or(0.5);

    let confusion = |set: &[&Example]| {
        let mut c = Confusion::default();
        for e in set {
            c.add(e.positive, model.is_request(&e.normalised));
        }
        c
    };
    let (train_confusion, dev_confusion) = (confusion(&training), confusion(&dev));
    let mut dev_by_source: BTreeMap<String, Confusion> = BTreeMap::new();
    let mut dev_errors = Vec::new();
    for e in &dev {
        let said = model.is_request(&e.normalised);
        let family = e.source.split(':').next().unwrap_or_default();
        for key in [family, e.source.as_str()] {
            dev_by_source.entry(key.to_owned()).or_default().add(e.positive, said);
            if family == e.source {
                break;
            }
        }
        if said != e.positive {
            dev_errors.push((e.positive, format!("[{}] {}", e.source, e.text)));
        }
    }
    let count = |set: &[&Example]| {
        let p = set.iter().filter(|e| e.positive).count();
        (p, set.len() - p)
    };
    Outcome {
        train_size: count(&training),
        dev_size: count(&dev),
        model,
        train: train_confusion,
        dev: dev_confusion,
        dev_by_source,
        dev_errors,
        features_seen,
        features_trained: kept.len(),
        epoch_loss: fit.epoch_loss,
    }
}

/// Whether a (normalised) text belongs to the dev split: FNV-1a of its bytes, so the split is
/// the same on every run and machine and a text's place does not depend on its neighbours.
pub fn is_dev(normalised: &str, percent: u64) -> bool {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in normalised.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash % 100 < percent
}

/// The probability threshold with the best F1 on `(probability, is a request)` pairs: of the
/// cut points between consecutive distinct scores that reach the best F1, the middle one.
pub fn best_threshold(scores: &[(f64, bool)]) -> f64 {
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = sorted.iter().filter(|s| s.1).count() as f64;
    if sorted.is_empty() || positives == 0.0 {
        return 0.5;
    }
    // Cut after index k: the first k + 1 texts count as requests.
    let mut candidates: Vec<(f64, f64)> = Vec::new();
    let mut tp = 0.0;
    for k in 0..sorted.len() {
        if sorted[k].1 {
            tp += 1.0;
        }
        let next = sorted.get(k + 1).map(|s| s.0);
        if next == Some(sorted[k].0) {
            continue;
        }
        let threshold = match next {
            Some(lower) => (sorted[k].0 + lower) / 2.0,
            None => sorted[k].0 / 2.0,
        };
        let f1 = 2.0 * tp / (positives + (k + 1) as f64);
        candidates.push((threshold, f1));
    }
    let best = candidates.iter().map(|c| c.1).fold(f64::MIN, f64::max);
    let tied: Vec<f64> = candidates
        .iter()
        .filter(|c| (c.1 - best).abs() < 1e-12)
        .map(|c| c.0)
        .collect();
    tied[tied.len() / 2]
}

/// The weights file's comment header: what made it, from what. Only counts, so retraining
/// gives the same bytes.
fn header(outcome: &Outcome) -> String {
    format!(
        "Baton's human-request detector: logistic regression over character 2-5-grams, words and\n\
         word pairs of the normalised text (src/bot/detect). Made by `baton train-detector`;\n\
         retrain rather than edit. Trained on {} texts ({} requests) from the Bitext 4,514 and\n\
         21,534 files, HINT3 v2 train, CLINC150 train, BANKING77 train and\n\
         data/detector/examples.tsv; threshold = best F1 on a dev split of {} texts ({} requests).\n\
         {} features, {} with |weight| >= {} kept.",
        outcome.train_size.0 + outcome.train_size.1,
        outcome.train_size.0,
        outcome.dev_size.0 + outcome.dev_size.1,
        outcome.dev_size.0,
        outcome.features_trained,
        outcome.model.weights.len(),
        SETTINGS.prune_below,
    )
}

fn material_lines(material: &Material) -> String {
    let mut out = String::from("training material (texts as read; duplicates removed later):\n");
    for s in &material.sources {
        out.push_str(&format!(
            "  {:48} {:>6} rows: {:>5} requests, {:>6} not, {:>4} left out, {:>4} relabelled\n",
            s.name, s.rows, s.positives, s.negatives, s.left_out, s.relabelled
        ));
    }
    let positives = material.examples.iter().filter(|e| e.positive).count();
    out.push_str(&format!(
        "  after removing {} duplicates and {} texts seen with both labels: {} texts, {} requests\n",
        material.duplicates,
        material.conflicts,
        material.examples.len(),
        positives
    ));
    out
}

fn pr(c: &Confusion) -> String {
    let f = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
    format!(
        "P {} · R {} (TP {} FP {} FN {})",
        f(c.precision()),
        f(c.recall()),
        c.tp,
        c.fp,
        c.fn_
    )
}

fn outcome_lines(o: &Outcome) -> String {
    let mut out = format!(
        "split: train {} texts ({} requests), dev {} texts ({} requests)\n\
         features: {} seen in training, {} in at least {} texts trained, {} kept (|w| >= {})\n\
         log loss by epoch: {}\n\
         threshold (best F1 on dev): {:.4}\n\
         train: {}\n\
         dev:   {}\n",
        o.train_size.0 + o.train_size.1,
        o.train_size.0,
        o.dev_size.0 + o.dev_size.1,
        o.dev_size.0,
        o.features_seen,
        o.features_trained,
        SETTINGS.min_count,
        o.model.weights.len(),
        SETTINGS.prune_below,
        o.epoch_loss
            .iter()
            .map(|l| format!("{l:.4}"))
            .collect::<Vec<_>>()
            .join(" "),
        o.model.threshold,
        pr(&o.train),
        pr(&o.dev),
    );
    for (source, c) in &o.dev_by_source {
        out.push_str(&format!("  dev {source:16} {}\n", pr(c)));
    }
    out
}

fn error_lines(errors: &[(bool, String)], per_kind: usize) -> String {
    let mut out = String::new();
    for (kind, positive) in [("requests missed", true), ("false alarms", false)] {
        let texts: Vec<&String> = errors
            .iter()
            .filter(|(p, _)| *p == positive)
            .map(|(_, t)| t)
            .collect();
        out.push_str(&format!("\ndev {kind} ({} in all):\n", texts.len()));
        for text in texts.iter().take(per_kind) {
            out.push_str(&format!("  - {text}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(text: &str, positive: bool) -> Example {
        Example {
            text: text.to_owned(),
            normalised: crate::bot::detect::normalise(text),
            positive,
            source: "test".to_owned(),
            weight: 1.0,
        }
    }

    fn tiny() -> Vec<Example> {
        let mut examples = Vec::new();
        for who in ["agent", "person", "human", "representative", "someone"] {
            for ask in ["talk to a", "speak with a", "connect me to a", "i want a"] {
                examples.push(example(&format!("{ask} {who}"), true));
            }
        }
        for topic in ["order", "refund", "invoice", "password", "delivery", "account"] {
            for ask in ["where is my", "i want my", "how do i change my", "help with my"] {
                examples.push(example(&format!("{ask} {topic}"), false));
            }
        }
        examples
    }

    const TINY: Settings = Settings {
        dev_percent: 20,
        min_count: 1,
        prune_below: 0.001,
        params: Params {
            epochs: 30,
            l2: 1e-4,
            eta0: 0.5,
            seed: 1,
        },
    };

    #[test]
    fn a_tiny_set_is_learned_and_new_phrasings_generalise() {
        let outcome = train(&tiny(), &TINY);
        assert_eq!(outcome.train.fp + outcome.train.fn_, 0, "{}", pr(&outcome.train));
        let model = &outcome.model;
        assert!(model.is_request("could i talk to a human"));
        assert!(!model.is_request("where is my parcel"));
    }

    #[test]
    fn retraining_writes_the_same_bytes() {
        let a = train(&tiny(), &TINY);
        let b = train(&tiny(), &TINY);
        assert_eq!(a.model.to_tsv(&header(&a)), b.model.to_tsv(&header(&b)));
        // And the file reads back as the model that was measured.
        let text = a.model.to_tsv("x");
        assert_eq!(Model::parse(&text).unwrap(), a.model);
    }

    #[test]
    fn the_dev_split_is_stable_and_about_the_asked_size() {
        let texts: Vec<String> = (0..2000).map(|i| format!("message number {i}")).collect();
        let dev = texts.iter().filter(|t| is_dev(t, 15)).count();
        assert!((200..400).contains(&dev), "{dev}");
        assert_eq!(is_dev("talk to a human", 15), is_dev("talk to a human", 15));
    }

    #[test]
    fn the_threshold_separates_when_it_can_and_sits_in_the_middle() {
        let scores = [(0.9, true), (0.8, true), (0.3, false), (0.1, false)];
        assert!((best_threshold(&scores) - 0.55).abs() < 1e-12);
        // One positive scored below a negative: the best F1 cut keeps both positives.
        let scores = [(0.9, true), (0.6, false), (0.5, true), (0.1, false)];
        assert!((best_threshold(&scores) - 0.3).abs() < 1e-12);
        assert_eq!(best_threshold(&[]), 0.5);
    }

    #[test]
    fn the_shipped_weights_file_is_what_the_code_reads() {
        let model = Model::parse(crate::bot::detect::MODEL_TSV).unwrap();
        assert!(model.weights.len() > 1000);
        assert!((0.0..1.0).contains(&model.threshold));
    }
}
