//! What each bot learns from its own knowledge base: which document a question is about.
//!
//! Every sentence of a document (and its title) is an example of a question that document
//! answers, so a knowledge base is also a labelled set, as intent-based assistants' "training
//! phrases" are. A multinomial logistic regression over the sentences' words, word pairs and
//! character n-grams (tf-idf weighted, as the search analyses them) learns which words point to
//! which document, including words the search weighs too little because many documents share
//! them. The search then leans on it: a document's score is raised by the probability the
//! classifier gives it beyond twice chance (see [`Classifier::evidence`] and [`super::index`]).
//!
//! It is trained when the bot's index is built, in the same blocking task, and only for
//! knowledge bases small enough that it takes about four seconds and 100 MiB at most while
//! training ([`MAX_WORK`], [`MAX_FEATURES`], [`MAX_WEIGHTS`]); a larger knowledge base is
//! searched without it. Once trained, each feature's weights are kept as bytes with one scale
//! per feature ([`Quantised`]), a quarter of the memory, since every node keeps every bot's
//! classifier for as long as its index lives.
//!
//! The learner is the one behind the human-request detector ([`crate::train::logistic`]),
//! extended to many classes: stochastic gradient descent on the softmax loss with an exact L2
//! penalty (the weights kept as a scale times a matrix), in a fixed-seed order, so the same
//! knowledge base always learns the same weights. The settings were chosen on development
//! splits (CLINC150 `val`, BANKING77-OOS `valid`, StackFAQ group A); see docs/EVALUATION.md.

use std::collections::BTreeMap;

use crate::train::logistic::{SplitMix64, shuffle};

/// The terms one text contributes in each way the classifier reads it: every word stemmed,
/// word pairs, character n-grams.
pub type Terms = [Vec<String>; 3];
/// The same, borrowed: what a search passes without copying the question's terms.
pub type TermsRef<'a> = [&'a [String]; 3];

/// Passes over the examples.
const EPOCHS: usize = 10;
/// η₀, the first step size.
const ETA0: f64 = 0.5;
/// The inverse strength of the L2 penalty (scikit-learn's `C`): λ = 1 / (C · examples).
const INVERSE_PENALTY: f64 = 10.0;
/// At most this many weights (features × documents): 16 million `f32`s, 64 MiB while
/// training, 16 MiB once quantised.
pub const MAX_WEIGHTS: usize = 16_000_000;
/// At most this many features (distinct terms): their names and numbers take about 100 bytes
/// each, so 40 MiB at most.
pub const MAX_FEATURES: usize = 400_000;
/// At most this much training (examples × documents). CLINC150's 15,000 sentences over 150
/// documents (2.25 million) take about 1.9 s on one core of the development machine, so the
/// limit is about four seconds.
pub const MAX_WORK: usize = 5_000_000;
const SEED: u64 = 7;

/// A trained classifier over a bot's documents, numbered as the caller numbered them.
pub struct Classifier {
    /// Per way, each known term's feature number.
    vocabulary: [BTreeMap<String, u32>; 3],
    /// Each feature's inverse document frequency (documents being training sentences here).
    idf: Vec<f32>,
    classes: usize,
    /// `weights[feature * classes + class]`: a feature's row is contiguous.
    weights: Quantised,
    bias: Vec<f32>,
}

/// A matrix of weights, row by row, each row as signed bytes times the row's own scale (its
/// largest magnitude over 127). The rounding moves a weight by at most 0.4 % of its row's
/// largest, far below what separates documents; on the evaluation data the decisions are
/// the same as with the `f32` weights (docs/EVALUATION.md).
#[derive(Debug, Default, PartialEq)]
struct Quantised {
    width: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
}

impl Quantised {
    fn new(weights: &[f32], width: usize) -> Quantised {
        let mut values = Vec::with_capacity(weights.len());
        let mut scales = Vec::with_capacity(weights.len() / width.max(1));
        for row in weights.chunks(width) {
            let largest = row.iter().fold(0.0_f32, |m, w| m.max(w.abs()));
            let scale = largest / 127.0;
            scales.push(scale);
            values.extend(row.iter().map(|w| match scale {
                0.0 => 0,
                _ => (w / scale).round() as i8,
            }));
        }
        Quantised {
            width,
            values,
            scales,
        }
    }

    /// Adds `x` times row `j` to `z`.
    fn add_row(&self, j: usize, x: f32, z: &mut [f32]) {
        let x = x * self.scales[j];
        let row = &self.values[j * self.width..(j + 1) * self.width];
        z.iter_mut().zip(row).for_each(|(z, &w)| *z += x * w as f32);
    }

    fn bytes(&self) -> usize {
        self.values.len() + 4 * self.scales.len()
    }
}

impl Classifier {
    /// Learns from `(class, terms)` examples; `None` when it could add nothing (fewer than
    /// three classes: see [`Classifier::evidence`]) or the knowledge base is beyond the size
    /// limits.
    pub fn train(examples: &[(usize, Terms)], classes: usize) -> Option<Classifier> {
        if !Self::worth_training(examples.len(), classes) {
            return None;
        }
        let mut frequency: [BTreeMap<&str, u32>; 3] = Default::default();
        for (_, terms) in examples {
            for (way, terms) in terms.iter().enumerate() {
                let mut seen: Vec<&str> = terms.iter().map(String::as_str).collect();
                seen.sort_unstable();
                seen.dedup();
                for term in seen {
                    *frequency[way].entry(term).or_default() += 1;
                }
            }
        }
        let features: usize = frequency.iter().map(BTreeMap::len).sum();
        if features > MAX_FEATURES || features.saturating_mul(classes) > MAX_WEIGHTS {
            return None;
        }
        let n = examples.len() as f32;
        let mut vocabulary: [BTreeMap<String, u32>; 3] = Default::default();
        let mut idf = Vec::with_capacity(features);
        for (way, terms) in frequency.iter().enumerate() {
            for (term, &df) in terms {
                vocabulary[way].insert((*term).to_owned(), idf.len() as u32);
                // scikit-learn's smoothed idf.
                idf.push(((1.0 + n) / (1.0 + df as f32)).ln() + 1.0);
            }
        }
        let mut classifier = Classifier {
            vocabulary,
            idf,
            classes,
            weights: Quantised::default(),
            bias: vec![0.0; classes],
        };
        let samples: Vec<(usize, Vec<(u32, f32)>)> = examples
            .iter()
            .map(|(class, terms)| {
                (
                    *class,
                    classifier.features(terms.each_ref().map(Vec::as_slice)),
                )
            })
            .collect();
        classifier.fit(&samples, features);
        Some(classifier)
    }

    /// Whether `examples` over `classes` are worth analysing for training at all: three
    /// classes or more, and no more training than [`MAX_WORK`]. Checked before the examples
    /// are analysed, so a knowledge base too large to learn from costs nothing.
    pub fn worth_training(examples: usize, classes: usize) -> bool {
        classes >= 3 && examples.saturating_mul(classes) <= MAX_WORK
    }

    /// Stochastic gradient descent on the softmax loss; see the module documentation.
    fn fit(&mut self, samples: &[(usize, Vec<(u32, f32)>)], features: usize) {
        let k = self.classes;
        let lambda = 1.0 / (INVERSE_PENALTY * samples.len() as f64);
        // The weights are `scale * v`.
        let mut v = vec![0.0_f32; features * k];
        let mut scale = 1.0_f64;
        let mut t = 0.0_f64;
        let mut order: Vec<usize> = (0..samples.len()).collect();
        let mut rng = SplitMix64::new(SEED);
        let mut p = vec![0.0_f32; k];
        for _ in 0..EPOCHS {
            shuffle(&mut order, &mut rng);
            for &i in &order {
                let (class, x) = &samples[i];
                let eta = ETA0 / (1.0 + ETA0 * lambda * t);
                p.copy_from_slice(&self.bias);
                for &(j, value) in x {
                    let row = &v[j as usize * k..(j as usize + 1) * k];
                    let value = (value as f64 * scale) as f32;
                    p.iter_mut().zip(row).for_each(|(z, w)| *z += value * w);
                }
                softmax(&mut p);
                // d(loss)/dz: the probabilities, less one for the right class.
                p[*class] -= 1.0;
                scale *= 1.0 - eta * lambda;
                for &(j, value) in x {
                    let step = (eta * value as f64 / scale) as f32;
                    let row = &mut v[j as usize * k..(j as usize + 1) * k];
                    row.iter_mut().zip(&p).for_each(|(w, g)| *w -= step * g);
                }
                let eta = eta as f32;
                self.bias
                    .iter_mut()
                    .zip(&p)
                    .for_each(|(b, g)| *b -= eta * g);
                if scale < 1e-6 {
                    // Fold the scale into the matrix before it underflows. (With these
                    // settings the total shrinkage is about ln(1 + η₀·EPOCHS / C), so the
                    // scale stays near 2/3; this guards other settings.)
                    v.iter_mut().for_each(|w| *w = (*w as f64 * scale) as f32);
                    scale = 1.0;
                }
                t += 1.0;
            }
        }
        let weights: Vec<f32> = v.into_iter().map(|w| (w as f64 * scale) as f32).collect();
        self.weights = Quantised::new(&weights, k);
    }

    /// A text's features: per way, `(1 + ln tf) · idf` of each known term, the way's vector
    /// scaled to length 1, and the whole scaled to length 1 again, so each way counts alike.
    fn features(&self, terms: TermsRef) -> Vec<(u32, f32)> {
        let mut out = Vec::new();
        for (way, terms) in terms.iter().enumerate() {
            let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
            for term in terms.iter() {
                if let Some(&j) = self.vocabulary[way].get(term) {
                    *counts.entry(j).or_default() += 1;
                }
            }
            let part: Vec<(u32, f32)> = counts
                .into_iter()
                .map(|(j, tf)| (j, (1.0 + (tf as f32).ln()) * self.idf[j as usize]))
                .collect();
            out.extend(normalised(part));
        }
        normalised(out)
    }

    /// About how many bytes it keeps: the weights (a byte each, and 4 per feature for its
    /// scale), the idf values (4 bytes each) and the vocabulary (each term's text, plus about
    /// 40 bytes of map entry and string header).
    pub fn memory(&self) -> usize {
        let vocabulary: usize = self
            .vocabulary
            .iter()
            .flat_map(|way| way.keys())
            .map(|term| term.len() + 40)
            .sum();
        self.weights.bytes() + 4 * (self.idf.len() + self.bias.len()) + vocabulary
    }

    /// How sure the classifier is that the text is about each class, as evidence: the
    /// probability beyond *twice* chance (`2 / classes`), rescaled so that certainty is 1 and
    /// anything up to twice chance is 0. A few-way softmax piles probability onto some class
    /// for any question that shares a word with the knowledge base: in five-document KBs cut
    /// from CLINC150's dev data, counting everything above plain chance made the bot answer
    /// out-of-scope questions it refused without the classifier (OOS recall 0.76 → 0.71);
    /// beyond twice chance it refuses them as before (0.75), while 150-document KBs keep the
    /// whole gain (`tools/ranking-search/blend.py`).
    pub fn evidence(&self, terms: TermsRef) -> Vec<f32> {
        let twice_chance = 2.0 / self.classes as f32;
        self.probabilities(terms)
            .iter()
            .map(|p| ((p - twice_chance) / (1.0 - twice_chance)).max(0.0))
            .collect()
    }
}

impl Classifier {
    /// The probability of each class.
    fn probabilities(&self, terms: TermsRef) -> Vec<f32> {
        let mut p = self.bias.clone();
        for (j, value) in self.features(terms) {
            self.weights.add_row(j as usize, value, &mut p);
        }
        softmax(&mut p);
        p
    }
}

fn normalised(mut vector: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    let length = vector.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if length > 0.0 {
        vector.iter_mut().for_each(|(_, x)| *x /= length);
    }
    vector
}

fn softmax(z: &mut [f32]) {
    let top = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0;
    for z in z.iter_mut() {
        *z = (*z - top).exp();
        total += *z;
    }
    z.iter_mut().for_each(|z| *z /= total);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Terms {
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let pairs = words.windows(2).map(|w| w.join("_")).collect();
        [words, pairs, Vec::new()]
    }

    fn shop() -> Classifier {
        let examples: Vec<(usize, Terms)> = [
            (0, "where is my parcel"),
            (0, "track my delivery"),
            (0, "my order has not arrived"),
            (1, "i want my money back"),
            (1, "refund for a broken item"),
            (1, "how do refunds work"),
            (2, "change my password"),
            (2, "i cannot log in to my account"),
            (2, "reset password link"),
            (3, "what are your opening hours"),
            (3, "when is the shop open"),
            (3, "are you open on sunday"),
            (4, "do you ship abroad"),
            (4, "international shipping costs"),
            (4, "can i order from another country"),
        ]
        .into_iter()
        .map(|(class, text)| (class, terms(text)))
        .collect();
        Classifier::train(&examples, 5).expect("small enough")
    }

    /// The most likely class, and the evidence for it.
    fn best(classifier: &Classifier, text: &str) -> (usize, f32) {
        let terms = terms(text);
        let terms = terms.each_ref().map(Vec::as_slice);
        let p = classifier.probabilities(terms);
        let class = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(class, _)| class)
            .expect("classes");
        (class, classifier.evidence(terms)[class])
    }

    #[test]
    fn learns_which_words_point_to_which_document() {
        let classifier = shop();
        assert_eq!(best(&classifier, "my parcel has not arrived yet").0, 0);
        assert_eq!(best(&classifier, "i want a refund").0, 1);
        assert_eq!(best(&classifier, "forgot my password").0, 2);
    }

    #[test]
    fn words_it_never_saw_are_no_evidence() {
        let (_, p) = best(&shop(), "quantum chromodynamics");
        assert!(p < 0.05, "{p}");
        let (_, p) = best(&shop(), "reset password");
        assert!(p > 0.3, "{p}");
    }

    #[test]
    fn the_same_examples_learn_the_same_weights() {
        assert_eq!(shop().weights, shop().weights);
    }

    #[test]
    fn quantised_rows_keep_each_weight_within_half_a_step() {
        let weights = [0.5, -1.27, 0.0, 0.001, 0.0, 0.0, 0.0, 0.0];
        let q = Quantised::new(&weights, 4);
        assert_eq!(q.values, [50, -127, 0, 0, 0, 0, 0, 0]);
        assert_eq!(q.bytes(), 8 + 2 * 4);
        let mut z = [0.0; 4];
        q.add_row(0, 2.0, &mut z);
        for (z, w) in z.iter().zip(&weights[..4]) {
            assert!((z - 2.0 * w).abs() <= 2.0 * 0.01 / 2.0 + 1e-6, "{z} vs {w}");
        }
        // A row of zeros stays zeros, rather than dividing by a zero scale.
        q.add_row(1, 2.0, &mut z);
        assert!((z[1] + 2.54).abs() < 1e-5, "{z:?}");
    }

    #[test]
    fn two_documents_or_too_many_learn_nothing() {
        let two = [(0, terms("parcel")), (1, terms("refund"))];
        assert!(Classifier::train(&two, 2).is_none());
        assert!(!Classifier::worth_training(2, 2));
        let too_many = MAX_WORK / 2 + 1;
        assert!(!Classifier::worth_training(2, too_many));
        assert!(Classifier::train(&[(0, terms("a")), (1, terms("b"))], too_many).is_none());
        assert!(Classifier::worth_training(15_000, 150));
    }
}
