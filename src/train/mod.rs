//! `baton train-detector`: trains the human-request classifier the live bot uses
//! ([`crate::bot::detect`]) and writes its weights file, `data/detector/model.tsv`, which the
//! binary compiles in. Anyone can retrain: the result is the same file, byte for byte.
//!
//! It reads training material only ([`material`]): the train splits of the public datasets
//! and the hand-written `data/detector/examples.tsv`, never a file `baton eval` tests on.
//!
//! The decision threshold is chosen by 5-fold cross-validation on that material: the texts
//! are split into five folds by a hash of the text (the same split every time), five models
//! are each trained without one fold and score it, and the threshold is the one with the best
//! F1 over those held-out scores. The shipped model is then trained on every text with the
//! same settings and takes that threshold (what scikit-learn's `TunedThresholdClassifierCV`
//! does). A single held-out split would waste a sixth or so of the hand-written examples, which are
//! all there is for ten of the eleven languages; the cross-validated figures it prints are the
//! "dev" figures: every text scored by a model that never saw it.
//!
//! [`logistic`] is the learner; the features are [`crate::bot::detect::features`].

pub mod logistic;
pub mod material;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use crate::bot::detect::features::features;
use crate::bot::detect::model::{Model, clauses, values, weight_text};
use crate::bot::detect::normalise;
use crate::eval::EvalError;
use crate::eval::metrics::Confusion;
use logistic::{Params, Sample};
use material::{EXAMPLE_WEIGHT, Example, Material};

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
    /// Also print up to this many cross-validation mistakes of each kind.
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
    /// Cross-validation folds for choosing the threshold.
    pub folds: u64,
    /// A feature must occur in this many training texts to get a weight.
    pub min_count: usize,
    /// Weights smaller than this (in absolute value) are dropped from the file.
    pub prune_below: f64,
    /// What a curated text (hand-written, or a CLINC150 identity question) weighs, whatever
    /// its class (see [`EXAMPLE_WEIGHT`]).
    pub example_weight: f64,
    /// How far dataset rows are reweighed towards balanced classes: a request weighs
    /// `(other rows / requests)^balance` times a non-request (0: not at all, 1: fully).
    pub balance: f64,
    pub params: Params,
}

pub const SETTINGS: Settings = Settings {
    folds: 5,
    min_count: 2,
    prune_below: 0.02,
    example_weight: EXAMPLE_WEIGHT,
    balance: 0.5,
    params: Params {
        epochs: 30,
        l2: 2e-6,
        eta0: 0.2,
        seed: 6,
    },
};

/// The trained model and how it did.
pub struct Outcome {
    pub model: Model,
    /// The shipped model on the texts it was trained on.
    pub train: Confusion,
    /// Every text scored by the cross-validation model that did not see it.
    pub cross: Confusion,
    /// The same, per source ("bitext", "examples", "examples:de"…).
    pub cross_by_source: BTreeMap<String, Confusion>,
    /// Texts the cross-validation models got wrong: (is a request, "[source] p text").
    pub cross_errors: Vec<(bool, String)>,
    /// Requests and other texts trained on.
    pub size: (usize, usize),
    pub features_seen: usize,
    pub features_trained: usize,
    pub epoch_loss: Vec<f64>,
}

/// `baton train-detector`.
pub fn run(args: &TrainArgs) -> Result<(), TrainError> {
    let started = Instant::now();
    let material = material::load(&args.data, &args.material)?;
    print!("{}", material_lines(&material));
    let settings = SETTINGS;
    let outcome = train(&material.examples, &settings);
    let tsv = outcome.model.to_tsv(&header(&outcome, &settings));
    std::fs::write(&args.out, &tsv).map_err(|source| TrainError::Write {
        path: args.out.clone(),
        source,
    })?;
    print!("{}", outcome_lines(&outcome, &settings));
    if args.show_errors > 0 {
        print!("{}", error_lines(&outcome.cross_errors, args.show_errors));
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

/// Cross-validates to pick the threshold, then trains the shipped model on every text.
pub fn train(examples: &[Example], settings: &Settings) -> Outcome {
    // What is trained on: every text, then the clauses of every text that is not a request.
    let (rows, parents) = with_clauses(examples);
    let featurised: Vec<Vec<String>> = rows.iter().map(|e| features(&e.normalised)).collect();
    let folds: Vec<u64> = parents
        .iter()
        .map(|&p| fold(&examples[p].normalised, settings.folds))
        .collect();

    // Every text scored by the model trained without its fold (and its clauses).
    let mut held_out = vec![0.0; examples.len()];
    for k in 0..settings.folds {
        let training: Vec<usize> = (0..rows.len()).filter(|&i| folds[i] != k).collect();
        let model = fit(&rows, &featurised, &training, settings).model;
        for i in (0..examples.len()).filter(|&i| folds[i] == k) {
            held_out[i] = model.message_probability(&examples[i].text);
        }
    }
    let scores: Vec<(f64, bool, f64)> = examples
        .iter()
        .zip(&held_out)
        .map(|(e, &p)| {
            let weight = if e.curated {
                settings.example_weight
            } else {
                1.0
            };
            (p, e.positive, weight)
        })
        .collect();
    // The threshold as the file will hold it.
    let threshold = format!("{:.6}", best_threshold(&scores))
        .parse()
        .unwrap_or(0.5);

    let all: Vec<usize> = (0..rows.len()).collect();
    let fitted = fit(&rows, &featurised, &all, settings);
    let model = Model {
        threshold,
        ..fitted.model
    };
    let mut train = Confusion::default();
    let mut cross = Confusion::default();
    let mut cross_by_source: BTreeMap<String, Confusion> = BTreeMap::new();
    let mut cross_errors = Vec::new();
    for (e, &p) in examples.iter().zip(&held_out) {
        train.add(e.positive, model.is_request_message(&e.text));
        let said = p >= threshold;
        cross.add(e.positive, said);
        let family = e.source.split(':').next().unwrap_or_default();
        cross_by_source
            .entry(family.to_owned())
            .or_default()
            .add(e.positive, said);
        if family != e.source {
            cross_by_source
                .entry(e.source.clone())
                .or_default()
                .add(e.positive, said);
        }
        if said != e.positive {
            cross_errors.push((e.positive, format!("[{}] {:.3} {}", e.source, p, e.text)));
        }
    }
    let requests = examples.iter().filter(|e| e.positive).count();
    Outcome {
        model,
        train,
        cross,
        cross_by_source,
        cross_errors,
        size: (requests, examples.len() - requests),
        features_seen: fitted.features_seen,
        features_trained: fitted.features_trained,
        epoch_loss: fitted.epoch_loss,
    }
}

/// The texts to train on, and for each the index of the text it comes from: every text, then
/// each clause (see [`clauses`]) of a text that is not a request, as one more non-request. The
/// live detector scores every clause of a message on its own, so the model must know what a
/// fragment such as "I don't understand" is alone; and a message that is not a request has no
/// clause that is one. A clause already present as a text of its own is not added again.
fn with_clauses(examples: &[Example]) -> (Vec<Example>, Vec<usize>) {
    let mut rows = examples.to_vec();
    let mut parents: Vec<usize> = (0..examples.len()).collect();
    let mut seen: HashSet<String> = examples.iter().map(|e| e.normalised.clone()).collect();
    for (i, e) in examples.iter().enumerate().filter(|(_, e)| !e.positive) {
        for clause in clauses(&e.text) {
            let normalised = normalise(clause);
            if normalised.is_empty() || !seen.insert(normalised.clone()) {
                continue;
            }
            rows.push(Example {
                text: clause.trim().to_owned(),
                normalised,
                ..e.clone()
            });
            parents.push(i);
        }
    }
    (rows, parents)
}

/// A model trained on `training` (indices into `examples`), pruned and rounded as the file
/// holds it; its threshold is a placeholder.
struct Fitted {
    model: Model,
    features_seen: usize,
    features_trained: usize,
    epoch_loss: Vec<f64>,
}

fn fit(
    examples: &[Example],
    featurised: &[Vec<String>],
    training: &[usize],
    settings: &Settings,
) -> Fitted {
    // Features seen in at least `min_count` training texts, numbered in sorted order.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for &i in training {
        for f in &featurised[i] {
            *counts.entry(f.as_str()).or_default() += 1;
        }
    }
    let mut kept: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n >= settings.min_count)
        .map(|(f, _)| *f)
        .collect();
    kept.sort_unstable();
    let index: HashMap<&str, u32> = kept
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, i as u32))
        .collect();

    // Dataset rows: requests are rare, so they weigh more (see `Settings::balance`).
    // Curated texts (hand-written, CLINC150 identity questions): a fixed weight, whatever the
    // class.
    let (rows, requests) = training
        .iter()
        .map(|&i| &examples[i])
        .filter(|e| !e.curated)
        .fold((0, 0), |(n, p), e| (n + 1, p + usize::from(e.positive)));
    // The weights of a request and a non-request row, averaging 1 over the dataset rows.
    let others = rows - requests;
    let ratio = (others.max(1) as f64 / requests.max(1) as f64).powf(settings.balance);
    let unit = rows as f64 / (requests as f64 * ratio + others as f64).max(1.0);
    let weight = |e: &Example| match (e.curated, e.positive) {
        (true, _) => settings.example_weight,
        (false, true) => unit * ratio,
        (false, false) => unit,
    };
    let samples: Vec<Sample> = training
        .iter()
        .map(|&i| Sample {
            features: featurised[i]
                .iter()
                .zip(values(&featurised[i]))
                .filter_map(|(f, x)| index.get(f.as_str()).map(|&j| (j, x)))
                .collect(),
            positive: examples[i].positive,
            weight: weight(&examples[i]),
        })
        .collect();
    let fit = logistic::train(&samples, kept.len(), &settings.params);

    let weights: HashMap<String, f64> = kept
        .iter()
        .zip(&fit.weights)
        .filter(|(_, w)| w.abs() >= settings.prune_below)
        .map(|(f, w)| ((*f).to_owned(), weight_text(*w).parse().unwrap_or(0.0)))
        .collect();
    Fitted {
        model: Model {
            bias: format!("{:.6}", fit.bias).parse().unwrap_or(fit.bias),
            threshold: 0.5,
            weights,
        },
        features_seen: counts.len(),
        features_trained: kept.len(),
        epoch_loss: fit.epoch_loss,
    }
}

/// The cross-validation fold of a (normalised) text: FNV-1a of its bytes, so the folds are the
/// same on every run and machine and a text's fold does not depend on its neighbours.
pub fn fold(normalised: &str, folds: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in normalised.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash % folds
}

/// How far below the best cross-validated F1 a cut point may be and still count as best. The
/// F1 curve is flat near its top (0.889 to 0.891 for thresholds from 0.35 to 0.45), so its
/// exact maximum is noise: adding 44 negatives once moved it from 0.41 to 0.36. Taking the
/// middle of the near-best range instead keeps the threshold in the middle of the plateau —
/// the middle by value, not the median cut point, which sits where scores are dense (low).
const F1_TOLERANCE: f64 = 0.002;

/// The probability threshold with the best F1 on `(probability, is a request, weight)`
/// triples, a curated text (hand-written, or a CLINC150 identity question) counting as much as
/// it did in training, so the ten languages with no dataset are not outvoted by English: of
/// the cut points between consecutive distinct scores whose F1 is within [`F1_TOLERANCE`] of
/// the best, the middle of the highest and the lowest.
pub fn best_threshold(scores: &[(f64, bool, f64)]) -> f64 {
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives: f64 = sorted.iter().filter(|s| s.1).map(|s| s.2).sum();
    if sorted.is_empty() || positives == 0.0 {
        return 0.5;
    }
    // Cut after index k: the first k + 1 texts count as requests.
    let mut candidates: Vec<(f64, f64)> = Vec::new();
    let (mut tp, mut said) = (0.0, 0.0);
    for k in 0..sorted.len() {
        said += sorted[k].2;
        if sorted[k].1 {
            tp += sorted[k].2;
        }
        let next = sorted.get(k + 1).map(|s| s.0);
        if next == Some(sorted[k].0) {
            continue;
        }
        let threshold = match next {
            Some(lower) => (sorted[k].0 + lower) / 2.0,
            None => sorted[k].0 / 2.0,
        };
        candidates.push((threshold, 2.0 * tp / (positives + said)));
    }
    let best = candidates.iter().map(|c| c.1).fold(f64::MIN, f64::max);
    let near_best = candidates
        .iter()
        .filter(|c| c.1 >= best - F1_TOLERANCE)
        .map(|c| c.0);
    let (low, high) = near_best.fold((f64::MAX, f64::MIN), |(low, high), t| {
        (low.min(t), high.max(t))
    });
    (low + high) / 2.0
}

/// The weights file's comment header: what made it, from what. Only counts, so retraining
/// gives the same bytes.
fn header(outcome: &Outcome, settings: &Settings) -> String {
    format!(
        "Baton's human-request detector: logistic regression over character 2-5-grams, words and\n\
         word pairs of the normalised text (src/bot/detect). Made by `baton train-detector`;\n\
         retrain rather than edit. Trained on {} texts ({} requests) from the Bitext 4,514 and\n\
         21,534 files, HINT3 v2 train, CLINC150 train, BANKING77 train and\n\
         data/detector/examples.tsv. Threshold: best F1 over {}-fold cross-validation scores\n\
         (hand-written examples and CLINC150 are_you_a_bot rows weighing {}, as in\n\
         training). {} features trained, {} with |weight| >= {} kept.",
        outcome.size.0 + outcome.size.1,
        outcome.size.0,
        settings.folds,
        settings.example_weight,
        outcome.features_trained,
        outcome.model.weights.len(),
        settings.prune_below,
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

fn outcome_lines(o: &Outcome, settings: &Settings) -> String {
    let mut out = format!(
        "trained on {} texts ({} requests); {}-fold cross-validation for the threshold\n\
         features: {} seen, {} in at least {} texts trained, {} kept (|w| >= {})\n\
         log loss by epoch: {}\n\
         threshold (best weighted F1, cross-validated): {:.4}\n\
         train (shipped model, texts it saw): {}\n\
         dev (cross-validated, texts unseen):  {}\n",
        o.size.0 + o.size.1,
        o.size.0,
        settings.folds,
        o.features_seen,
        o.features_trained,
        settings.min_count,
        o.model.weights.len(),
        settings.prune_below,
        o.epoch_loss
            .iter()
            .map(|l| format!("{l:.4}"))
            .collect::<Vec<_>>()
            .join(" "),
        o.model.threshold,
        pr(&o.train),
        pr(&o.cross),
    );
    for (source, c) in &o.cross_by_source {
        out.push_str(&format!("  dev {source:12} {}\n", pr(c)));
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
        out.push_str(&format!(
            "\ncross-validation {kind} ({} in all):\n",
            texts.len()
        ));
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
            curated: false,
        }
    }

    fn tiny() -> Vec<Example> {
        let mut examples = Vec::new();
        for who in ["agent", "person", "human", "representative", "someone"] {
            for ask in ["talk to a", "speak with a", "connect me to a", "i want a"] {
                examples.push(example(&format!("{ask} {who}"), true));
            }
        }
        for topic in [
            "order", "refund", "invoice", "password", "delivery", "account",
        ] {
            for ask in [
                "where is my",
                "i want my",
                "how do i change my",
                "help with my",
            ] {
                examples.push(example(&format!("{ask} {topic}"), false));
            }
        }
        examples
    }

    const TINY: Settings = Settings {
        folds: 3,
        min_count: 1,
        prune_below: 0.001,
        example_weight: 3.0,
        balance: 1.0,
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
        assert_eq!(
            outcome.train.fp + outcome.train.fn_,
            0,
            "{}",
            pr(&outcome.train)
        );
        let model = &outcome.model;
        assert!(model.is_request("could i talk to a human"));
        assert!(!model.is_request("where is my parcel"));
    }

    #[test]
    fn retraining_writes_the_same_bytes() {
        let a = train(&tiny(), &TINY);
        let b = train(&tiny(), &TINY);
        assert_eq!(
            a.model.to_tsv(&header(&a, &TINY)),
            b.model.to_tsv(&header(&b, &TINY))
        );
        // And the file reads back as the model that was measured.
        let text = a.model.to_tsv("x");
        assert_eq!(Model::parse(&text).unwrap(), a.model);
    }

    #[test]
    fn the_folds_are_stable_and_about_equal() {
        let texts: Vec<String> = (0..2000).map(|i| format!("message number {i}")).collect();
        for k in 0..5 {
            let n = texts.iter().filter(|t| fold(t, 5) == k).count();
            assert!((300..500).contains(&n), "fold {k}: {n}");
        }
        assert_eq!(fold("talk to a human", 5), fold("talk to a human", 5));
    }

    #[test]
    fn every_text_is_scored_once_by_a_model_that_did_not_see_it() {
        let outcome = train(&tiny(), &TINY);
        assert_eq!(outcome.cross.total() as usize, tiny().len());
        assert_eq!(outcome.size, (20, 24));
    }

    #[test]
    fn on_a_flat_top_the_threshold_is_the_middle_of_the_range_not_of_the_cut_points() {
        // Every cut from 0.95 down to 0.05 keeps the one positive and adds a negative of
        // negligible weight: all are within the tolerance, most of them low down.
        let mut scores = vec![(0.99, true, 1.0)];
        scores.extend((1..=19).map(|i| (1.0 - f64::from(i) * 0.05, false, 1e-6)));
        // The cut points run from 0.97 (between 0.99 and 0.95) to 0.025 (below 0.05).
        let t = best_threshold(&scores);
        assert!((t - (0.97 + 0.025) / 2.0).abs() < 1e-9, "{t}");
    }

    #[test]
    fn the_threshold_separates_when_it_can_and_sits_in_the_middle() {
        let scores = [
            (0.9, true, 1.0),
            (0.8, true, 1.0),
            (0.3, false, 1.0),
            (0.1, false, 1.0),
        ];
        assert!((best_threshold(&scores) - 0.55).abs() < 1e-12);
        // One positive scored below a negative: the best F1 cut keeps both positives.
        let scores = [
            (0.9, true, 1.0),
            (0.6, false, 1.0),
            (0.5, true, 1.0),
            (0.1, false, 1.0),
        ];
        assert!((best_threshold(&scores) - 0.3).abs() < 1e-12);
        // Unless that negative weighs more than the positive below it.
        let scores = [
            (0.9, true, 1.0),
            (0.6, false, 3.0),
            (0.5, true, 1.0),
            (0.1, false, 1.0),
        ];
        assert!((best_threshold(&scores) - 0.75).abs() < 1e-12);
        assert_eq!(best_threshold(&[]), 0.5);
    }

    #[test]
    fn the_shipped_weights_file_is_what_the_code_reads() {
        let model = Model::parse(crate::bot::detect::MODEL_TSV).unwrap();
        assert!(model.weights.len() > 1000);
        assert!((0.0..1.0).contains(&model.threshold));
    }
}
