//! The figures the evaluation reports, as plain functions over counts and rankings, so each
//! can be checked by hand against a small worked case.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Counts of a yes/no decision against the truth ("is this a request for a person?",
/// "is this out of scope?").
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
    pub tn: u64,
}

impl Confusion {
    pub fn add(&mut self, truth: bool, predicted: bool) {
        match (truth, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    pub fn positives(&self) -> u64 {
        self.tp + self.fn_
    }

    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    /// Share of "yes" decisions that were right; `None` when nothing was said "yes" to.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Share of true cases found; `None` when there were none.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Matthews correlation of the decision with the truth, from -1 to 1; 0 when a margin is
    /// empty (the usual convention, as scikit-learn's).
    pub fn mcc(&self) -> f64 {
        let [tp, fp, fn_, tn] = [self.tp, self.fp, self.fn_, self.tn].map(|n| n as f64);
        let denominator = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
        if denominator == 0.0 {
            0.0
        } else {
            (tp * tn - fp * fn_) / denominator
        }
    }
}

pub fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Multi-class Matthews correlation (Gorodkin's R_K, what scikit-learn's `matthews_corrcoef`
/// computes) over `(truth, predicted)` label pairs. With two labels it equals [`Confusion::mcc`].
pub fn multiclass_mcc<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> f64 {
    let mut truth: HashMap<&str, f64> = HashMap::new();
    let mut predicted: HashMap<&str, f64> = HashMap::new();
    let (mut correct, mut samples) = (0.0, 0.0);
    for (t, p) in pairs {
        *truth.entry(t).or_default() += 1.0;
        *predicted.entry(p).or_default() += 1.0;
        samples += 1.0;
        if t == p {
            correct += 1.0;
        }
    }
    let cross: f64 = predicted
        .iter()
        .map(|(label, p)| p * truth.get(label).copied().unwrap_or(0.0))
        .sum();
    let squares = |counts: &HashMap<&str, f64>| counts.values().map(|c| c * c).sum::<f64>();
    let s2 = samples * samples;
    let denominator = ((s2 - squares(&predicted)) * (s2 - squares(&truth))).sqrt();
    if denominator == 0.0 {
        0.0
    } else {
        (correct * samples - cross) / denominator
    }
}

/// 1 / rank of the first relevant entry of a ranking, 0 if none is ranked.
pub fn reciprocal_rank(ranked: &[String], relevant: &HashSet<String>) -> f64 {
    ranked
        .iter()
        .position(|id| relevant.contains(id))
        .map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// Average precision: the mean, over every relevant entry, of the precision at its rank; a
/// relevant entry missing from the ranking adds 0.
pub fn average_precision(ranked: &[String], relevant: &HashSet<String>) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    let mut found = 0;
    let mut sum = 0.0;
    for (i, id) in ranked.iter().enumerate() {
        if relevant.contains(id) {
            found += 1;
            sum += found as f64 / (i + 1) as f64;
        }
    }
    sum / relevant.len() as f64
}

/// The nearest-rank percentile (`p` from 0 to 100) of some timings.
pub fn percentile(timings: &[Duration], p: f64) -> Duration {
    if timings.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = timings.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn set(list: &[&str]) -> HashSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn precision_and_recall_match_a_hand_count() {
        let mut c = Confusion::default();
        // 3 true positives, 1 false positive, 2 missed, 4 true negatives.
        for (truth, said) in [(true, true); 3]
            .into_iter()
            .chain([(false, true)])
            .chain([(true, false); 2])
            .chain([(false, false); 4])
        {
            c.add(truth, said);
        }
        assert_eq!((c.tp, c.fp, c.fn_, c.tn), (3, 1, 2, 4));
        assert_eq!(c.precision(), Some(0.75));
        assert_eq!(c.recall(), Some(0.6));
        assert_eq!(Confusion::default().precision(), None);
    }

    #[test]
    fn binary_mcc_matches_a_hand_computation() {
        let c = Confusion {
            tp: 3,
            fp: 1,
            fn_: 2,
            tn: 4,
        };
        // (3·4 − 1·2) / √(4·5·5·6) = 10 / √600
        assert!((c.mcc() - 10.0 / 600f64.sqrt()).abs() < 1e-12);
        let perfect = Confusion {
            tp: 2,
            tn: 2,
            ..Confusion::default()
        };
        assert_eq!(perfect.mcc(), 1.0);
        let all_yes = Confusion {
            tp: 2,
            fp: 2,
            ..Confusion::default()
        };
        assert_eq!(all_yes.mcc(), 0.0);
    }

    #[test]
    fn multiclass_mcc_matches_scikit_learns_worked_example() {
        // scikit-learn's example: y_true [1,3,2,0,3,2], y_pred [1,2,2,0,3,3] → 0.5384615…
        let truth = ["1", "3", "2", "0", "3", "2"];
        let predicted = ["1", "2", "2", "0", "3", "3"];
        let mcc = multiclass_mcc(truth.into_iter().zip(predicted));
        assert!((mcc - 0.538_461_538_461_538_4).abs() < 1e-12, "{mcc}");
    }

    #[test]
    fn multiclass_mcc_with_two_labels_is_the_binary_mcc() {
        let truth = ["y", "y", "y", "n", "y", "y", "n", "n", "n", "n"];
        let predicted = ["y", "y", "y", "y", "n", "n", "n", "n", "n", "n"];
        let mut c = Confusion::default();
        for (t, p) in truth.iter().zip(&predicted) {
            c.add(*t == "y", *p == "y");
        }
        let mcc = multiclass_mcc(truth.into_iter().zip(predicted));
        assert!((mcc - c.mcc()).abs() < 1e-12);
    }

    #[test]
    fn reciprocal_rank_is_one_over_the_first_relevant_rank() {
        let ranking = ids(&["a", "b", "c", "d"]);
        assert_eq!(reciprocal_rank(&ranking, &set(&["a"])), 1.0);
        assert_eq!(reciprocal_rank(&ranking, &set(&["c", "d"])), 1.0 / 3.0);
        assert_eq!(reciprocal_rank(&ranking, &set(&["z"])), 0.0);
    }

    #[test]
    fn average_precision_averages_precision_at_each_relevant_rank() {
        let ranking = ids(&["a", "b", "c", "d"]);
        // relevant at ranks 2 and 4: (1/2 + 2/4) / 2 = 0.5
        assert_eq!(average_precision(&ranking, &set(&["b", "d"])), 0.5);
        // one relevant at rank 1, one never ranked: (1/1 + 0) / 2
        assert_eq!(average_precision(&ranking, &set(&["a", "z"])), 0.5);
        // a single relevant entry: AP is its reciprocal rank
        assert_eq!(average_precision(&ranking, &set(&["c"])), 1.0 / 3.0);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let timings: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&timings, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&timings, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
