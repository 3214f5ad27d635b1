//! The two SVM kinds, which share their flags: the linear SVM (squared
//! hinge, dual coordinate descent; kind `linear`) and the RBF SVM (our SMO
//! solver, shipped as a landmark expansion; kind `kernel-svm`), both
//! Platt-calibrated on held-out decision values.

use ferrisk::schema::Encoding;
use ferrisk::Model;

use super::{kv, FitInput, Fitted, Flags, Trainer};
use crate::algo::linear::{fit_svm, min_rbf_rows, SvmModel, SvmParams};
use crate::split;

#[derive(clap::Args, Debug, Clone)]
#[group(id = "svm-params")]
#[command(next_help_heading = "SVM")]
pub struct Params {
    /// SVM: soft-margin penalty C.
    #[arg(id = "svm-c", long = "svm-c", default_value_t = Params::default().c)]
    pub c: f64,
    /// RBF SVM: kernel width γ (default: 1 / (columns · variance), "scale").
    #[arg(id = "svm-gamma", long = "svm-gamma")]
    pub gamma: Option<f64>,
    /// SVM: solver passes over the data.
    #[arg(id = "svm-epochs", long = "svm-epochs", default_value_t = Params::default().epochs)]
    pub epochs: usize,
    /// RBF SVM: train on at most this many rows (stratified sample; the exact solver's time grows
    /// about quadratically with rows: ~1-2 min per fit on 31,647 Bank Marketing rows on 2 cores).
    #[arg(id = "svm-max-rows", long = "svm-max-rows", default_value_t = Params::default().max_rows)]
    pub max_rows: usize,
}

impl Default for Params {
    fn default() -> Self {
        let p = SvmParams::default();
        Params {
            c: p.c,
            gamma: p.gamma,
            epochs: p.epochs,
            max_rows: 50_000,
        }
    }
}

impl Flags for Params {
    fn trainers(&self) -> Vec<Box<dyn Trainer + '_>> {
        vec![
            Box::new(Svm {
                p: self,
                rbf: false,
            }),
            Box::new(Svm { p: self, rbf: true }),
        ]
    }
}

struct Svm<'a> {
    p: &'a Params,
    rbf: bool,
}

impl Trainer for Svm<'_> {
    fn id(&self) -> &'static str {
        if self.rbf {
            "svm-rbf"
        } else {
            "svm-linear"
        }
    }

    fn name(&self) -> &'static str {
        if self.rbf {
            "RBF SVM (Platt-calibrated)"
        } else {
            "linear SVM (Platt-calibrated)"
        }
    }

    fn encoding(&self) -> Encoding {
        Encoding {
            scale: true,
            impute_numeric: true,
        }
    }

    fn params(&self) -> Vec<(String, String)> {
        let defaults = SvmParams::default();
        let mut out = vec![("svm_c", self.p.c.to_string())];
        if self.rbf {
            out.push((
                "svm_gamma",
                self.p.gamma.map_or("scale".into(), |g| g.to_string()),
            ));
        }
        out.push(("svm_epochs", self.p.epochs.to_string()));
        out.push(("svm_max_rows", self.p.max_rows.to_string()));
        out.push(("platt_folds", defaults.platt_folds.to_string()));
        if self.rbf {
            // The file's privacy statement (`Bundle::embeds_training_rows`).
            out.push((
                ferrisk::bundle::CENTRES_PARAM,
                ferrisk::bundle::LANDMARKS.to_string(),
            ));
        }
        kv(&out)
    }

    fn fit(&self, input: &FitInput<'_>) -> Result<Fitted, String> {
        let (x, y) = (input.x, input.y);
        let mut notes = Vec::new();
        let svm = SvmParams {
            c: self.p.c,
            gamma: self.p.gamma,
            epochs: self.p.epochs,
            seed: input.seed,
            threads: input.threads,
            ..SvmParams::default()
        };
        // Only the kernel solver needs a row cap; the linear one is O(rows).
        let w = input.weights;
        let (xs, ys, ws) = if self.rbf && x.rows > self.p.max_rows {
            let keep_rows = self.p.max_rows;
            let min = min_rbf_rows(x.cols, svm.platt_folds);
            if keep_rows < min {
                return Err(format!(
                    "--svm-max-rows {keep_rows} is below the minimum of {min} for these data: \
                     the RBF SVM needs a row per design column ({}) in each of its Platt fits",
                    x.cols
                ));
            }
            let frac = 1.0 - keep_rows as f64 / x.rows as f64;
            let (mut keep, rest) = split::stratified_split(y, frac, input.seed ^ 0xa11);
            // Per-class rounding can miss the cap by a row or two either way.
            keep.truncate(keep_rows);
            keep.extend(rest.iter().take(keep_rows.saturating_sub(keep.len())));
            keep.sort_unstable();
            notes.push(format!(
                "SVM trained on a stratified sample of {} of {} training rows (--svm-max-rows)",
                keep.len(),
                x.rows
            ));
            (
                x.select(&keep),
                keep.iter().map(|&i| y[i]).collect(),
                keep.iter().map(|&i| w[i]).collect(),
            )
        } else {
            (x.clone(), y.to_vec(), w.to_vec())
        };
        input.progress.start(
            if self.rbf {
                "RBF SVM + Platt"
            } else {
                "linear SVM + Platt"
            },
            1,
        );
        let (m, calibration, report) =
            fit_svm(&xs, &ys, &ws, &svm, self.rbf).map_err(|e| e.to_string())?;
        if let Some(r) = report {
            notes.push(format!(
                "RBF SVM: exact SMO solution on {} rows has {} support vectors ({} iterations); \
                 the file holds none of them",
                r.rows, r.support_vectors, r.iterations
            ));
            notes.push(format!(
                "privacy: the file's {} RBF centres are landmarks, not customer rows: k-means \
                 centroids of the training rows, each the mean of at least {} rows (the \
                 smallest of {}), none equal to a training row; weights fitted by least \
                 squares to the exact decision function",
                r.landmarks,
                crate::algo::svm::MIN_MEMBERS,
                r.min_members
            ));
            notes.push(format!(
                "RBF SVM approximation: out-of-fold AUC {:.4} (exact model {:.4}) on the same {} \
                 rows ({}-fold Platt folds); training-row AUC {:.4} (exact {:.4})",
                r.oof_auc_shipped,
                r.oof_auc_exact,
                r.rows,
                svm.platt_folds,
                r.train_auc_shipped,
                r.train_auc_exact,
            ));
        }
        let model = match m {
            SvmModel::Linear(l) => Model::from(l),
            SvmModel::Kernel(k) => Model::from(k),
        };
        Ok(Fitted {
            model,
            calibration,
            notes,
        })
    }
}
