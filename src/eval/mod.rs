//! `baton eval`: how good is the built-in bot's judgement, measured on public data
//! (`eval-data/`, see its README)? It runs the code the live bot runs — the human-request
//! detector, and the knowledge-base search with its relevance threshold — over each dataset's
//! held-out split, and prints one table. It measures; it tunes nothing: no threshold or word
//! list is chosen here, so the figures are honest estimates for the next change to beat.
//!
//! One file per dataset family reads its files and scores them: [`bitext`] and [`hint3`]
//! (human-request detection; HINT3 also out-of-scope), [`clinc150`] and [`banking77_oos`]
//! ("the KB has nothing"), [`faq`] (retrieval). [`kb`] builds the in-memory knowledge bases
//! and makes the responder's decision; [`metrics`] holds the arithmetic.

pub mod banking77_oos;
pub mod bitext;
pub mod clinc150;
pub mod faq;
pub mod hint3;
pub mod kb;
pub mod metrics;
pub mod multilingual;
pub mod scale;
mod sweep;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use metrics::{Confusion, percentile};

/// The HINT3 agent-labelled test rows, hand-relabelled: which are explicit requests for a
/// person. Compiled in, so `baton eval` works from any directory.
pub const HINT3_RELABEL: &str = include_str!("../../data/eval/hint3_relabel.csv");

#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// The eval-data folder (the one with README.md, clinc150/, hint3/ …).
    #[arg(long, env = "BATON_EVAL_DATA", default_value = "../shared/eval-data")]
    pub data: PathBuf,
    /// Also print up to this many wrong decisions per dataset and kind, after the table.
    #[arg(long, default_value_t = 0)]
    pub show_errors: usize,
    /// Also sweep the "KB has nothing" threshold over the dev splits (never the test splits).
    #[arg(long)]
    pub sweep: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(
        "no evaluation data at {0}: pass --data <dir> or set BATON_EVAL_DATA to the eval-data folder"
    )]
    NoData(PathBuf),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {what}")]
    Format { path: PathBuf, what: String },
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// One line of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    /// M1 (human request), M2 (KB has nothing), M3 (retrieval), as in the data README.
    pub measure: &'static str,
    pub dataset: String,
    /// How many queries, and of which kind.
    pub n: String,
    pub result: String,
    /// The published figure to compare with, if there is one.
    pub anchor: String,
    pub target: String,
    /// Whether the target is met; `None` where no target applies.
    pub met: Option<bool>,
}

/// A wrong decision, kept so people improving the bot can see what fails.
#[derive(Debug, Clone)]
pub struct Example {
    pub dataset: String,
    pub kind: &'static str,
    pub text: String,
}

/// Search timings of one knowledge base.
#[derive(Debug, Clone)]
pub struct Latency {
    pub kb: String,
    pub documents: usize,
    pub bytes: usize,
    pub searches: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub built_in: Duration,
    pub learned_bytes: usize,
}

#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub examples: Vec<Example>,
    pub latencies: Vec<Latency>,
    /// Wall time of every human-request detector call.
    pub detector: Vec<Duration>,
}

/// What every dataset's scorer writes into: rows, wrong examples, timings, progress.
pub struct Run<'a> {
    bar: &'a ProgressBar,
    report: Report,
}

impl Run<'_> {
    pub fn tick(&self) {
        self.bar.inc(1);
    }

    pub fn row(&mut self, row: Row) {
        self.report.rows.push(row);
    }

    pub fn wrong(&mut self, dataset: &str, kind: &'static str, text: impl Into<String>) {
        self.report.examples.push(Example {
            dataset: dataset.to_owned(),
            kind,
            text: text.into(),
        });
    }

    /// Records a knowledge base's search timings once it has been used.
    pub fn timed(&mut self, kb: &kb::Kb) {
        self.report.latencies.push(Latency {
            kb: kb.name.clone(),
            documents: kb.documents,
            bytes: kb.bytes,
            searches: kb.timings.len(),
            p50: percentile(&kb.timings, 50.0),
            p99: percentile(&kb.timings, 99.0),
            built_in: kb.built_in,
            learned_bytes: kb.learned_bytes,
        });
    }

    /// Runs the human-request detector over labelled texts and counts its decisions.
    pub fn detect(&mut self, dataset: &str, samples: &[(String, bool)]) -> Confusion {
        let mut confusion = Confusion::default();
        for (text, positive) in samples {
            let started = Instant::now();
            let said = crate::bot::detect::is_human_request(text);
            self.report.detector.push(started.elapsed());
            confusion.add(*positive, said);
            match (*positive, said) {
                (true, false) => self.wrong(dataset, "request missed", text.as_str()),
                (false, true) => self.wrong(dataset, "false alarm", text.as_str()),
                _ => {}
            }
            self.tick();
        }
        confusion
    }
}

/// `baton eval`: load everything, score it under a progress bar, print the table.
pub fn run(args: &EvalArgs) -> Result<(), EvalError> {
    let started = Instant::now();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:28} [{bar:40}] {pos}/{len} queries ({elapsed})")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    let report = evaluate(&args.data, HINT3_RELABEL, &bar)?;
    bar.finish_and_clear();
    print!("{}", table(&report.rows));
    println!();
    print!("{}", latency_lines(&report.latencies));
    println!(
        "human-request detector latency: p50 {:.1} µs, p99 {:.1} µs over {} messages",
        micros(percentile(&report.detector, 50.0)),
        micros(percentile(&report.detector, 99.0)),
        report.detector.len()
    );
    println!(
        "total evaluation time: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if args.show_errors > 0 {
        print!("{}", examples(&report.examples, args.show_errors));
    }
    if args.sweep {
        println!("\nthreshold sweep on the dev splits:\n");
        print!("{}", sweep::run(&args.data)?);
    }
    Ok(())
}

/// Reads every dataset first (so the progress bar knows its length), then scores them.
pub fn evaluate(dir: &Path, relabel_csv: &str, bar: &ProgressBar) -> Result<Report, EvalError> {
    if !dir.join("clinc150").is_dir() {
        return Err(EvalError::NoData(dir.to_owned()));
    }
    bar.set_message("reading the datasets");
    let clinc = clinc150::load(dir)?;
    let bitext = bitext::load(dir)?;
    let hint3 = hint3::load(dir, relabel_csv)?;
    let checks = multilingual::CHECKS
        .iter()
        .map(multilingual::load)
        .collect::<Result<Vec<_>, _>>()?;
    let banking = banking77_oos::load(dir)?;
    let faqs = faq::load(dir)?;
    let scale = scale::load(dir)?;
    bar.set_length(
        (bitext.queries()
            + hint3.queries()
            + checks.iter().map(|c| c.queries()).sum::<usize>()
            + clinc.queries()
            + banking.queries()
            + faqs.queries()
            + scale.queries()) as u64,
    );
    let mut run = Run {
        bar,
        report: Report::default(),
    };
    bar.set_message("M1 Bitext");
    bitext.evaluate(&mut run);
    bar.set_message("M1/M2 HINT3");
    hint3.evaluate(&mut run)?;
    bar.set_message("M1 multilingual checks");
    for check in &checks {
        check.evaluate(&mut run);
    }
    bar.set_message("M2 CLINC150");
    clinc.evaluate(&mut run)?;
    bar.set_message("M2 BANKING77-OOS");
    banking.evaluate(&mut run)?;
    bar.set_message("M2 KB size: 5 and 10,000 documents");
    scale.evaluate(&mut run)?;
    bar.set_message("M3 StackFAQ, COVID FAQ");
    faqs.evaluate(&mut run)?;
    Ok(run.report)
}

/// The results as a Markdown table, so it can go into docs/EVALUATION.md unchanged.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| M | dataset (split) | n | result | published anchor | target | met |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.measure, r.dataset, r.n, r.result, r.anchor, r.target, met
        ));
    }
    out
}

/// p50/p99 of the largest knowledge base (by text indexed) first, then the others.
fn latency_lines(latencies: &[Latency]) -> String {
    let mut sorted = latencies.to_vec();
    sorted.sort_by_key(|l| std::cmp::Reverse(l.bytes));
    let mut out = String::new();
    for (i, l) in sorted.iter().enumerate() {
        out.push_str(&format!(
            "{}search latency, {} ({} documents, {:.0} KiB, built in {:.0} ms, classifier {:.1} MiB): p50 {:.2} ms, p99 {:.2} ms over {} searches\n",
            if i == 0 { "largest KB: " } else { "  " },
            l.kb,
            l.documents,
            l.bytes as f64 / 1024.0,
            ms(l.built_in),
            l.learned_bytes as f64 / (1024.0 * 1024.0),
            ms(l.p50),
            ms(l.p99),
            l.searches
        ));
    }
    out
}

fn examples(examples: &[Example], per_kind: usize) -> String {
    let mut groups: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for e in examples {
        groups
            .entry((e.dataset.as_str(), e.kind))
            .or_default()
            .push(e.text.as_str());
    }
    let mut out = String::from("\nwrong decisions (first of each kind):\n");
    for ((dataset, kind), texts) in groups {
        out.push_str(&format!("\n{dataset}: {kind} ({} in all)\n", texts.len()));
        for text in texts.iter().take(per_kind) {
            out.push_str(&format!("  - {text}\n"));
        }
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000_000.0
}

/// A share as a percentage with one decimal, "n/a" when undefined.
pub fn pct(share: Option<f64>) -> String {
    share.map_or_else(|| "n/a".to_owned(), |s| format!("{:.1}", s * 100.0))
}

/// A figure from 0 to 1 with three decimals, "n/a" when undefined.
pub fn f3(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

/// Thousands separated with commas, as the data README writes counts.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The precision/recall row of a detection set.
pub fn detection_row(dataset: String, c: Confusion, target: Option<f64>) -> Row {
    let (p, r) = (c.precision(), c.recall());
    Row {
        measure: "M1",
        dataset,
        n: format!(
            "{} ({} pos)",
            count(c.total() as usize),
            count(c.positives() as usize)
        ),
        result: format!(
            "P {} · R {} (TP {} FP {} FN {})",
            f3(p),
            f3(r),
            c.tp,
            c.fp,
            c.fn_
        ),
        anchor: "—".to_owned(),
        target: target.map_or_else(|| "—".to_owned(), |t| format!("P, R ≥ {t:.2}")),
        met: target.map(|t| p.unwrap_or(0.0) >= t && r.unwrap_or(0.0) >= t),
    }
}

// ---- reading the files ----

pub fn read_text(path: &Path) -> Result<String, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })?;
    // Two Bitext files start with a UTF-8 byte-order mark.
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// `(text, label)` pairs from two named columns of a CSV file with a header. Extra columns,
/// and rows with an extra empty field (HINT3's powerplay11 train file), are ignored.
pub fn read_csv_pairs(
    path: &Path,
    text_column: &str,
    label_column: &str,
) -> Result<Vec<(String, String)>, EvalError> {
    let text = read_text(path)?;
    let csv_error = |source| EvalError::Csv {
        path: path.to_owned(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| EvalError::Format {
                path: path.to_owned(),
                what: format!("no column named {name:?}"),
            })
    };
    let (t, l) = (column(text_column)?, column(label_column)?);
    let mut pairs = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        match (record.get(t), record.get(l)) {
            (Some(text), Some(label)) => pairs.push((text.to_owned(), label.trim().to_owned())),
            _ => {
                return Err(EvalError::Format {
                    path: path.to_owned(),
                    what: "a row with too few fields".to_owned(),
                });
            }
        }
    }
    Ok(pairs)
}

/// The lines of a file, trimmed (BANKING77-OOS keeps texts and labels in parallel line files,
/// so no line is dropped: that would pair texts with the wrong labels).
pub fn read_lines(path: &Path) -> Result<Vec<String>, EvalError> {
    Ok(read_text(path)?
        .lines()
        .map(|l| l.trim().to_owned())
        .collect())
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EvalError> {
    serde_json::from_str(&read_text(path)?).map_err(|source| EvalError::Json {
        path: path.to_owned(),
        source,
    })
}

/// One JSON value per non-empty line.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, EvalError> {
    read_text(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).map_err(|source| EvalError::Json {
                path: path.to_owned(),
                source,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
