//! `ferrisk import`: an XGBoost JSON or LightGBM text model becomes a
//! ferrisk model file (trees kind), mapped onto the columns of a labelled
//! sample CSV, calibrated and thresholded on one part of it and evaluated on
//! the other (`ferrisk_train::import`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferrisk::policy::Policy;
use ferrisk_train::calibrate::CalibrationChoice;
use ferrisk_train::data::{self, SchemaFile, Table};
use ferrisk_train::import::{self, ImportOptions};
use ferrisk_train::reproducible;

use crate::common::{flatten, print_metrics, write_atomic};

#[derive(Args)]
#[command(
    after_long_help = "Supported: XGBoost JSON models (save_model(\"m.json\"); gbtree booster; \
binary:logistic or binary:logitraw) and LightGBM text models (save_model(\"m.txt\"); binary objective; \
gbdt, or rf with averaged outputs), with numeric splits, missing-value directions and native \
categorical splits (XGBoost enable_categorical, LightGBM categorical_feature: the column of the same \
name, its categories matched by text). Refused, naming what was found: other objectives, multi-class \
models, gblinear and dart boosters, linear trees.\n\n\
Example (a model trained with XGBoost on Spark or in Python, one-hot purpose):\n  \
ferrisk import --model model.json --data sample.csv --label default --positive yes \\\n    \
--one-hot purpose --out models/xgb.frk"
)]
pub struct ImportArgs {
    /// The library's model file: XGBoost JSON (.json) or LightGBM text (.txt).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// A labelled sample CSV with the raw columns the model was trained on:
    /// gives the schema, the calibration/threshold rows and the evaluation rows.
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Label column of --data (two classes).
    #[arg(long, value_name = "COLUMN")]
    pub label: String,
    /// The label value the model predicts (the positive class).
    #[arg(long, value_name = "VALUE")]
    pub positive: String,
    /// Categorical columns whose one-hot dummies the model splits on, comma
    /// separated: a model feature `purpose_car` or `purpose=car` is the
    /// category `car` of column `purpose`, and its contributions fold into it.
    #[arg(long, value_delimiter = ',', value_name = "COL,...")]
    pub one_hot: Vec<String>,
    /// JSON schema overriding inferred column types:
    /// {"types": {"column": "numeric" | "categorical"}}.
    #[arg(long, value_name = "FILE.json")]
    pub schema: Option<PathBuf>,
    /// Output model file (.frk).
    #[arg(long, value_name = "FILE.frk")]
    pub out: PathBuf,
    /// Share of the rows held out (stratified) for the stored metrics and the
    /// drift baseline; the others choose the calibration and the threshold.
    /// 0: no held-out rows (the metrics are then those of the calibration rows).
    #[arg(long, default_value_t = 0.5)]
    pub eval_share: f64,
    /// Seed of the split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Threshold policy: max-f1, ks, cost:FN=5,FP=1, approval-rate:0.7, fixed:0.3.
    #[arg(long, default_value = "max-f1", value_name = "POLICY")]
    pub threshold_by: String,
    /// Calibration: `own` keeps the library's probability (logistic of its
    /// margin); `auto` Platt-scales it when that lowers the cross-fitted
    /// log-loss on the calibration rows; `platt` always does.
    #[arg(long, value_enum, default_value_t = CalibrationChoice::Auto)]
    pub calibration: CalibrationChoice,
    /// Protected attributes to audit on the evaluation rows, as for `train`
    /// (age_in_years:<25,personal_status_and_sex): per-group approval rate,
    /// adverse-impact ratio, TPR/FPR gaps, AUC, calibration, and every input
    /// screened as their proxy. The imported model keeps the inputs it was
    /// trained on; a protected one is never given as a reason.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "COL[:BANDS],...",
        help_heading = "Governance"
    )]
    pub protected: Vec<String>,
    /// Monotone directions to check (COLUMN=+1 or -1), by sweeping each
    /// column on the evaluation rows through the imported file: a report,
    /// since the library fitted the model.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "COL=±1,...",
        help_heading = "Governance"
    )]
    pub monotone: Vec<String>,
}

pub fn import(a: ImportArgs) -> Result<ExitCode> {
    run(a).map_err(flatten)
}

fn run(a: ImportArgs) -> Result<ExitCode> {
    if !(a.eval_share >= 0.0 && a.eval_share < 1.0) {
        bail!(
            "--eval-share must be 0 or between 0 and 1, got {}",
            a.eval_share
        );
    }
    let policy =
        Policy::parse(&a.threshold_by).map_err(|e| anyhow::anyhow!("--threshold-by: {e}"))?;
    let epoch = reproducible::source_date_epoch()?;
    let bytes = std::fs::read(&a.model)
        .with_context(|| format!("{}: cannot read the model", a.model.display()))?;
    let foreign = import::read(&bytes).with_context(|| format!("{}", a.model.display()))?;
    let schema = match &a.schema {
        Some(p) => SchemaFile::read(p)?,
        None => SchemaFile::default(),
    };
    let table = Table::read(&a.data)?;
    let ds = data::prepare(&table, &a.label, &a.positive, &[], &schema)?;
    let protected = crate::common::protected_specs(&a.protected, &table, &a.data)?;
    let monotone = ferrisk_train::fairness::parse_monotone(&a.monotone)
        .map_err(|e| anyhow::anyhow!("--monotone: {e}"))?;
    let opts = ImportOptions {
        protected,
        monotone,
        one_hot: a.one_hot.clone(),
        eval_share: a.eval_share,
        seed: a.seed,
        policy,
        calibration: a.calibration,
        model_name: a
            .model
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        model_sha256: ferrisk::format::sha256_hex(&bytes),
        ..ImportOptions::default()
    };
    let (mut out, mut bundle) = import::build(&foreign, &table, &ds, &opts)
        .with_context(|| format!("importing {}", a.model.display()))?;
    if let Some(epoch) = epoch {
        reproducible::stamp(&mut bundle, epoch);
        out = ferrisk::format::encode(&bundle)?;
    }
    write_atomic(&a.out, &out)?;
    eprintln!(
        "imported {} ({} {}, {}, {} trees) -> {}",
        a.model.display(),
        foreign.library.name(),
        foreign.version,
        foreign.objective,
        foreign.trees.len(),
        a.out.display()
    );
    if let Some(r) = &bundle.report {
        let on = bundle
            .decision
            .as_ref()
            .map_or("evaluation rows", |d| d.evaluated_on.as_str());
        print_metrics(
            &format!("{on} ({})", a.out.display()),
            &r.test,
            Some(&bundle),
        );
    }
    for note in &bundle.metadata.notes {
        eprintln!("  note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}
