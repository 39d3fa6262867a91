//! Binary logistic regression on sparse features, trained by stochastic gradient descent with
//! L2 regularisation — the small learner behind `baton train-detector`.
//!
//! Why not a crate: the Rust crates that train logistic regression either want a dense
//! matrix (`linfa-logistic`, `linfa-ftrl`, `smartcore`: ~45,000 messages × ~300,000 n-grams
//! would not fit in memory), or are unmaintained bindings to C/C++ code (`liblinear` 1.0, 2019,
//! edition 2015; `rustlearn` 0.5, 2018, built on `rand` 0.3), or young single-author crates
//! aimed at streaming (`rill-ml`, FTRL with L1). What we need is a hundred lines: the
//! loss gradient of one example touches only its own features.
//!
//! The method is Bottou's (2010, "Large-scale machine learning with stochastic gradient
//! descent"; also scikit-learn's `SGDClassifier(loss="log_loss")`): for each example in
//! turn, `w ← (1 − ηλ)·w − η·c·(σ(w·x + b) − y)·x`, with the decay of *every* weight done at
//! once by keeping `w` as a scale times a vector, so an update costs only the example's own
//! features and the L2 penalty is exact. The step size falls as `η₀ / (1 + η₀·λ·t)`. The
//! intercept is not regularised. `c` is the example's weight (class balance, source).
//!
//! Training is deterministic: the examples are visited in an order shuffled by a fixed-seed
//! SplitMix64, the same on every machine, so retraining reproduces the weights exactly.

/// One training example: `(feature index, value)` pairs, the label and a weight.
#[derive(Debug, Clone)]
pub struct Sample {
    pub features: Vec<(u32, f64)>,
    pub positive: bool,
    pub weight: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Passes over the data.
    pub epochs: usize,
    /// λ, the L2 penalty per example.
    pub l2: f64,
    /// η₀, the first step size.
    pub eta0: f64,
    /// Seeds the visiting order.
    pub seed: u64,
}

/// A trained model: one weight per feature index, the intercept, and the mean training loss
/// of each epoch (log loss weighted as the examples are, before each example's own update).
#[derive(Debug, Clone)]
pub struct Fit {
    pub weights: Vec<f64>,
    pub bias: f64,
    pub epoch_loss: Vec<f64>,
}

impl Fit {
    pub fn logit(&self, features: &[(u32, f64)]) -> f64 {
        self.bias
            + features
                .iter()
                .map(|&(j, x)| self.weights[j as usize] * x)
                .sum::<f64>()
    }
}

pub fn train(samples: &[Sample], features: usize, params: &Params) -> Fit {
    let mut v = vec![0.0_f64; features];
    // The weights are `scale * v`.
    let mut scale = 1.0_f64;
    let mut bias = 0.0_f64;
    let mut t = 0.0_f64;
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let mut rng = SplitMix64::new(params.seed);
    let total_weight: f64 = samples.iter().map(|s| s.weight).sum();
    let mut epoch_loss = Vec::with_capacity(params.epochs);
    for _ in 0..params.epochs {
        shuffle(&mut order, &mut rng);
        let mut loss = 0.0;
        for &i in &order {
            let sample = &samples[i];
            let eta = params.eta0 / (1.0 + params.eta0 * params.l2 * t);
            let z = bias
                + scale
                    * sample
                        .features
                        .iter()
                        .map(|&(j, x)| v[j as usize] * x)
                        .sum::<f64>();
            let y = if sample.positive { 1.0 } else { 0.0 };
            loss += sample.weight * log_loss(z, sample.positive);
            // d(loss)/dz for this example.
            let g = sample.weight * (sigmoid(z) - y);
            scale *= 1.0 - eta * params.l2;
            for &(j, x) in &sample.features {
                v[j as usize] -= eta * g * x / scale;
            }
            bias -= eta * g;
            if scale < 1e-9 {
                // Fold the scale into the vector before it underflows.
                v.iter_mut().for_each(|w| *w *= scale);
                scale = 1.0;
            }
            t += 1.0;
        }
        epoch_loss.push(loss / total_weight.max(f64::MIN_POSITIVE));
    }
    Fit {
        weights: v.into_iter().map(|w| w * scale).collect(),
        bias,
        epoch_loss,
    }
}

pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// −log P(label) under the logit `z`, computed without overflow.
fn log_loss(z: f64, positive: bool) -> f64 {
    let m = if positive { -z } else { z };
    // log(1 + e^m)
    if m > 0.0 {
        m + (-m).exp().ln_1p()
    } else {
        m.exp().ln_1p()
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny generator whose output is fixed by its
/// seed on every platform and in every version, unlike `rand`'s `StdRng`.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by rejection so no value is favoured.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// Fisher–Yates.
pub fn shuffle(items: &mut [usize], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(features: &[u32], positive: bool) -> Sample {
        let x = 1.0 / (features.len() as f64).sqrt();
        Sample {
            features: features.iter().map(|&j| (j, x)).collect(),
            positive,
            weight: 1.0,
        }
    }

    /// Feature 0 marks positives, 1 negatives; 2 and 3 are noise on both sides.
    fn tiny() -> Vec<Sample> {
        let mut samples = Vec::new();
        for i in 0..20 {
            let noise = 2 + (i % 2);
            samples.push(sample(&[0, noise], true));
            samples.push(sample(&[1, noise], false));
        }
        samples
    }

    const PARAMS: Params = Params {
        epochs: 20,
        l2: 1e-4,
        eta0: 0.5,
        seed: 7,
    };

    #[test]
    fn a_separable_set_is_separated() {
        let fit = train(&tiny(), 4, &PARAMS);
        assert!(fit.weights[0] > 1.0 && fit.weights[1] < -1.0, "{fit:?}");
        // Noise on both sides earns (nearly) nothing.
        assert!(
            fit.weights[2].abs() < 0.5 && fit.weights[3].abs() < 0.5,
            "{fit:?}"
        );
        for s in tiny() {
            assert_eq!(fit.logit(&s.features) > 0.0, s.positive);
        }
        // The loss falls.
        assert!(fit.epoch_loss.last() < fit.epoch_loss.first(), "{fit:?}");
    }

    #[test]
    fn training_is_deterministic_and_the_seed_matters_only_a_little() {
        let a = train(&tiny(), 4, &PARAMS);
        let b = train(&tiny(), 4, &PARAMS);
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.bias, b.bias);
        let c = train(&tiny(), 4, &Params { seed: 8, ..PARAMS });
        assert_ne!(a.weights, c.weights);
        assert!((a.weights[0] - c.weights[0]).abs() < 0.5);
    }

    #[test]
    fn a_stronger_penalty_gives_smaller_weights() {
        let loose = train(&tiny(), 4, &PARAMS);
        let tight = train(&tiny(), 4, &Params { l2: 1e-1, ..PARAMS });
        assert!(tight.weights[0].abs() < loose.weights[0].abs());
    }

    #[test]
    fn example_weights_move_the_boundary() {
        // The same features, labelled both ways: the heavier side wins.
        let mut samples = vec![sample(&[0], true), sample(&[0], false)];
        samples[0].weight = 3.0;
        let fit = train(&samples, 1, &PARAMS);
        assert!(fit.logit(&samples[0].features) > 0.0, "{fit:?}");
        samples[0].weight = 1.0 / 3.0;
        let fit = train(&samples, 1, &PARAMS);
        assert!(fit.logit(&samples[0].features) < 0.0, "{fit:?}");
    }

    #[test]
    fn the_log_loss_is_stable_at_the_extremes() {
        assert!((log_loss(0.0, true) - 2f64.ln()).abs() < 1e-12);
        assert!(log_loss(800.0, true) < 1e-300);
        assert!((log_loss(800.0, false) - 800.0).abs() < 1e-9);
    }

    #[test]
    fn the_shuffle_is_a_fixed_permutation() {
        let mut a: Vec<usize> = (0..10).collect();
        shuffle(&mut a, &mut SplitMix64(1));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        let mut b: Vec<usize> = (0..10).collect();
        shuffle(&mut b, &mut SplitMix64(1));
        assert_eq!(a, b);
        // SplitMix64's published first output for seed 0.
        assert_eq!(SplitMix64(0).next(), 0xE220_A839_7B1D_CDAF);
    }
}
