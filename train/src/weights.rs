//! Class weights (`ferrisk train --class-weight`): one weight per class,
//! turned into one sample weight per training row, which every trainer
//! takes as "this row counts w times" (a row of weight 3 is fitted as if it
//! were there three times; the trainers' tests check exactly that against
//! duplicated rows).
//!
//! - `balanced`: class `c` weighs `n / (2 · n_c)`, `n` the labelled rows of
//!   the table and `n_c` those of class `c` (scikit-learn's formula). The
//!   split and the folds are stratified, so every fit's training rows have
//!   these proportions up to rounding; one pair of weights is used for every
//!   fit (cross-validation included) and recorded in the file.
//! - `POSITIVE=W,NEGATIVE=W` with the label's two values, e.g. `bad=5,good=1`.
//! - `none` (the default): every row weighs 1.

/// The smallest and largest weight accepted (keeps every weighted sum,
/// cover and f32 value of every trainer finite and meaningful).
pub const MIN_WEIGHT: f32 = 1e-6;
pub const MAX_WEIGHT: f32 = 1e6;

/// Resolved weights of the two classes, with the label's class names.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassWeights {
    pub positive: f32,
    pub negative: f32,
    /// From `balanced` (recorded as such).
    pub balanced: bool,
    pub positive_name: String,
    pub negative_name: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WeightError {
    #[error("--class-weight '{spec}': expected `balanced`, `none` or {positive}=W,{negative}=W (a weight for each class of the label)")]
    Syntax {
        spec: String,
        positive: String,
        negative: String,
    },
    #[error("--class-weight '{spec}': '{part}' is not CLASS=WEIGHT")]
    Part { spec: String, part: String },
    #[error("--class-weight '{spec}': '{class}' is not a class of the label (its classes are '{positive}' and '{negative}')")]
    UnknownClass {
        spec: String,
        class: String,
        positive: String,
        negative: String,
    },
    #[error("--class-weight '{spec}': class '{class}' is given twice")]
    Twice { spec: String, class: String },
    #[error("--class-weight '{spec}': no weight for class '{class}' (give both: {positive}=W,{negative}=W)")]
    Missing {
        spec: String,
        class: String,
        positive: String,
        negative: String,
    },
    #[error("--class-weight '{spec}': the weight '{value}' of class '{class}' is not a number")]
    NotANumber {
        spec: String,
        class: String,
        value: String,
    },
    #[error("--class-weight '{spec}': the weight of class '{class}' must be a finite number in [{MIN_WEIGHT:e}, {MAX_WEIGHT:e}], got {value}")]
    OutOfRange {
        spec: String,
        class: String,
        value: String,
    },
    #[error("--class-weight balanced: class '{class}' has no rows")]
    EmptyClass { class: String },
    #[error("{weights} sample weights for {rows} rows")]
    Count { weights: usize, rows: usize },
    #[error("the sample weight of row {row} is {value}, not a finite number > 0")]
    BadRowWeight { row: usize, value: f32 },
}

impl ClassWeights {
    /// Parses `--class-weight` for a label with classes `positive` and
    /// `negative`; `labels` (every labelled row, `true` = positive) gives
    /// the class sizes for `balanced`. `none` gives `None`.
    pub fn parse(
        spec: &str,
        positive: &str,
        negative: &str,
        labels: &[bool],
    ) -> Result<Option<ClassWeights>, WeightError> {
        let trimmed = spec.trim();
        let named = |positive_weight: f32, negative_weight: f32, balanced: bool| ClassWeights {
            positive: positive_weight,
            negative: negative_weight,
            balanced,
            positive_name: positive.to_string(),
            negative_name: negative.to_string(),
        };
        match trimmed {
            "none" => return Ok(None),
            "balanced" => {
                let n = labels.len() as f64;
                let pos = labels.iter().filter(|&&v| v).count() as f64;
                for (count, class) in [(pos, positive), (n - pos, negative)] {
                    if count == 0.0 {
                        return Err(WeightError::EmptyClass {
                            class: class.to_string(),
                        });
                    }
                }
                let w = |count: f64| (n / (2.0 * count)) as f32;
                return Ok(Some(named(w(pos), w(n - pos), true)));
            }
            "" => {
                return Err(WeightError::Syntax {
                    spec: spec.to_string(),
                    positive: positive.to_string(),
                    negative: negative.to_string(),
                })
            }
            _ => {}
        }
        let (mut pos_w, mut neg_w) = (None, None);
        for part in trimmed.split(',') {
            let Some((class, value)) = part.split_once('=') else {
                return Err(WeightError::Part {
                    spec: spec.to_string(),
                    part: part.to_string(),
                });
            };
            let (class, value) = (class.trim(), value.trim());
            let slot = if class == positive {
                &mut pos_w
            } else if class == negative {
                &mut neg_w
            } else {
                return Err(WeightError::UnknownClass {
                    spec: spec.to_string(),
                    class: class.to_string(),
                    positive: positive.to_string(),
                    negative: negative.to_string(),
                });
            };
            if slot.is_some() {
                return Err(WeightError::Twice {
                    spec: spec.to_string(),
                    class: class.to_string(),
                });
            }
            let w: f64 = value.parse().map_err(|_| WeightError::NotANumber {
                spec: spec.to_string(),
                class: class.to_string(),
                value: value.to_string(),
            })?;
            let w32 = w as f32;
            if !(w.is_finite() && (MIN_WEIGHT..=MAX_WEIGHT).contains(&w32)) {
                return Err(WeightError::OutOfRange {
                    spec: spec.to_string(),
                    class: class.to_string(),
                    value: value.to_string(),
                });
            }
            *slot = Some(w32);
        }
        let missing = |class: &str| WeightError::Missing {
            spec: spec.to_string(),
            class: class.to_string(),
            positive: positive.to_string(),
            negative: negative.to_string(),
        };
        let p = pos_w.ok_or_else(|| missing(positive))?;
        let q = neg_w.ok_or_else(|| missing(negative))?;
        Ok(Some(named(p, q, false)))
    }

    /// The weight of each row with labels `y`.
    pub fn rows(&self, y: &[bool]) -> Vec<f32> {
        y.iter()
            .map(|&v| if v { self.positive } else { self.negative })
            .collect()
    }

    /// For the file's metadata: `balanced (bad=1.67, good=0.71)` or
    /// `bad=5, good=1`.
    pub fn describe(&self) -> String {
        if self.balanced {
            format!(
                "balanced ({}={:.2}, {}={:.2})",
                self.positive_name, self.positive, self.negative_name, self.negative
            )
        } else {
            format!(
                "{}={}, {}={}",
                self.positive_name, self.positive, self.negative_name, self.negative
            )
        }
    }
}

/// The sample weights of rows labelled `y`: the class weights, or 1 each.
pub fn row_weights(weights: Option<&ClassWeights>, y: &[bool]) -> Vec<f32> {
    match weights {
        Some(w) => w.rows(y),
        None => vec![1.0; y.len()],
    }
}

/// Whether every weight is exactly 1 (the trainers keep their unweighted
/// code path, and thus today's models, then).
pub fn all_ones(w: &[f32]) -> bool {
    w.iter().all(|&v| v == 1.0)
}

/// Checks sample weights given to a fitting algorithm: one per row, each
/// finite and > 0.
pub fn check(w: &[f32], rows: usize) -> Result<(), WeightError> {
    if w.len() != rows {
        return Err(WeightError::Count {
            weights: w.len(),
            rows,
        });
    }
    match w.iter().position(|&v| !(v.is_finite() && v > 0.0)) {
        Some(row) => Err(WeightError::BadRowWeight { row, value: w[row] }),
        None => Ok(()),
    }
}

/// Test data for the trainers' weighting tests: the independent oracle of
/// a weight is duplication (a row of weight k = k copies of the row).
#[cfg(test)]
pub(crate) mod testing {
    use crate::bins::Matrix;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    /// `rows` rows of `cols` features uniform in [-1, 1] (rounded to
    /// 1/64, so sums of a few of them are exact), labels drawn from a
    /// logistic model of the first two columns with a positive rate of
    /// about a third.
    pub fn data(rows: usize, cols: usize, seed: u64) -> (Matrix, Vec<bool>) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut x = Matrix::zeros(rows, cols);
        let mut y = Vec::with_capacity(rows);
        for r in 0..rows {
            let row = x.row_mut(r);
            for v in row.iter_mut() {
                *v = (rng.random_range(-64..=64) as f32) / 64.0;
            }
            let z = 2.0 * row[0] - 1.5 * row.get(1).copied().unwrap_or(0.0) - 0.8;
            y.push(rng.random::<f32>() < 1.0 / (1.0 + (-z).exp()));
        }
        (x, y)
    }

    /// Weight `k` on the positive rows, 1 on the others.
    pub fn positive_weight(y: &[bool], k: f32) -> Vec<f32> {
        y.iter().map(|&v| if v { k } else { 1.0 }).collect()
    }

    /// `x`, `y` with `k - 1` more copies of every positive row appended
    /// (in row order, copy after copy).
    pub fn duplicate_positives(x: &Matrix, y: &[bool], k: usize) -> (Matrix, Vec<bool>) {
        let mut idx: Vec<usize> = (0..x.rows).collect();
        for _ in 1..k {
            idx.extend((0..x.rows).filter(|&r| y[r]));
        }
        (x.select(&idx), idx.iter().map(|&r| y[r]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str, labels: &[bool]) -> Result<Option<ClassWeights>, WeightError> {
        ClassWeights::parse(spec, "bad", "good", labels)
    }

    #[test]
    fn balanced_is_n_over_twice_the_class_size() {
        // 3 bad, 7 good: 10 / 6 and 10 / 14.
        let labels: Vec<bool> = (0..10).map(|i| i < 3).collect();
        let w = parse("balanced", &labels).unwrap().unwrap();
        assert_eq!(w.positive, (10.0f64 / 6.0) as f32);
        assert_eq!(w.negative, (10.0f64 / 14.0) as f32);
        assert_eq!(w.describe(), "balanced (bad=1.67, good=0.71)");
        // The weighted classes weigh the same: 3 · 10/6 = 7 · 10/14 = 5.
        let rows = w.rows(&labels);
        let bad: f32 = rows
            .iter()
            .zip(&labels)
            .filter(|(_, &y)| y)
            .map(|(w, _)| w)
            .sum();
        let good: f32 = rows
            .iter()
            .zip(&labels)
            .filter(|(_, &y)| !y)
            .map(|(w, _)| w)
            .sum();
        assert!((bad - 5.0).abs() < 1e-5 && (good - 5.0).abs() < 1e-5);
        assert_eq!(
            parse("balanced", &[true, true]),
            Err(WeightError::EmptyClass {
                class: "good".into()
            })
        );
    }

    #[test]
    fn explicit_weights_in_any_order() {
        for spec in ["bad=5,good=1", " good = 1 , bad=5 "] {
            let w = parse(spec, &[true, false]).unwrap().unwrap();
            assert_eq!((w.positive, w.negative, w.balanced), (5.0, 1.0, false));
            assert_eq!(w.describe(), "bad=5, good=1");
            assert_eq!(w.rows(&[true, false, false]), vec![5.0, 1.0, 1.0]);
        }
        assert_eq!(parse("none", &[true, false]), Ok(None));
        assert_eq!(row_weights(None, &[true, false]), vec![1.0, 1.0]);
    }

    #[test]
    fn bad_specs_name_the_bad_part() {
        let l = [true, false];
        let e = |s: &str| parse(s, &l).unwrap_err().to_string();
        assert!(e("bda=5,good=1")
            .contains("'bda' is not a class of the label (its classes are 'bad' and 'good')"));
        assert!(e("bad=5").contains("no weight for class 'good'"));
        assert!(e("bad=x,good=1").contains("the weight 'x' of class 'bad' is not a number"));
        assert!(e("bad=0,good=1").contains("the weight of class 'bad' must be a finite number"));
        assert!(e("bad=-2,good=1").contains("got -2"));
        assert!(e("bad=inf,good=1").contains("got inf"));
        assert!(e("bad=NaN,good=1").contains("class 'bad'"));
        assert!(e("bad=1e9,good=1").contains("got 1e9"));
        assert!(e("bad=1,bad=2").contains("class 'bad' is given twice"));
        assert!(e("bad5,good=1").contains("'bad5' is not CLASS=WEIGHT"));
        assert!(e("").contains("expected `balanced`, `none` or bad=W,good=W"));
    }

    #[test]
    fn row_weights_are_checked() {
        assert!(check(&[1.0, 2.0], 2).is_ok());
        assert_eq!(
            check(&[1.0], 2),
            Err(WeightError::Count {
                weights: 1,
                rows: 2
            })
        );
        assert!(check(&[1.0, 0.0], 2)
            .unwrap_err()
            .to_string()
            .contains("row 1 is 0"));
        assert!(check(&[f32::NAN], 1).is_err());
        assert!(all_ones(&[1.0, 1.0]) && !all_ones(&[1.0, 2.0]));
    }
}
