//! Governance figures a file carries (format v3 section `report/governance`,
//! optional): which columns are protected attributes and whether the model
//! takes them as inputs, the fair-lending audit per group on held-out rows,
//! the proxy screening of the other inputs, and the monotone constraints.
//! The trainer computes them (`ferrisk_train::fairness`).
//!
//! For the bundle's size the runtime decodes only what it acts on: the
//! names of the protected attributes ([`Section::protected`]: never a
//! reason, `credit::reasons`). The report itself ([`Governance`]) is stored
//! as JSON text and handed on as it is: the wasm layer gives the page the
//! parsed object (`JSON.parse`), the CLI and the service parse it with
//! serde_json ([`Governance`] is its shape, and the TypeScript of
//! `Metadata.governance`).

use serde::{Deserialize, Serialize};

/// What a file's `report/governance` section holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// Every protected attribute, whether the model takes it as an input
    /// or not.
    pub protected: Vec<String>,
    /// The report: a [`Governance`] as JSON.
    pub report: String,
}

impl Section {
    /// True when `feature` is a protected attribute (never a reason).
    pub fn is_protected(&self, feature: &str) -> bool {
        self.protected.iter().any(|p| p == feature)
    }
}

/// One group of a protected attribute, at the file's threshold, on held-out
/// rows. "Approved" is a negative decision (probability < threshold); TPR
/// and FPR are those of the positive ("bad") class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "FairnessGroup"))]
pub struct Group {
    /// `"< 25"`, `">= 25"`, a category, or `"(missing)"`.
    pub name: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub rows: u64,
    /// Rows of the positive class.
    #[cfg_attr(test, ts(type = "number"))]
    pub positives: u64,
    pub approval_rate: f64,
    /// Approval rate / the highest group approval rate (four-fifths rule:
    /// below 0.8 is adverse impact).
    pub impact_ratio: f64,
    /// Share of positive rows refused (equal opportunity compares these).
    pub tpr: f64,
    /// Share of negative rows refused (with TPR: equalised odds).
    pub fpr: f64,
    /// ROC AUC within the group (`None` when it holds one class only).
    pub auc: Option<f64>,
    /// Calibration in the large: mean predicted probability and observed
    /// positive rate.
    pub mean_predicted: f64,
    pub observed: f64,
}

/// A protected attribute and its audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "ProtectedAttribute"))]
pub struct Protected {
    /// The column.
    pub name: String,
    /// How a numeric column is grouped (`"<25"`), empty for categories.
    pub bands: String,
    /// True when the model takes it as an input (`--use-protected`).
    pub input: bool,
    pub groups: Vec<Group>,
    /// Lowest impact ratio, and the largest TPR and FPR differences
    /// between groups.
    pub min_impact_ratio: f64,
    pub tpr_gap: f64,
    pub fpr_gap: f64,
}

/// How well one input predicts membership of a protected group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Proxy"))]
pub struct Proxy {
    pub feature: String,
    pub protected: String,
    /// AUC of predicting the group from the feature alone, folded to
    /// >= 0.5 (the best one-vs-rest group for several groups).
    pub auc: f64,
    /// The strongest proxy of its protected attribute.
    pub flagged: bool,
}

/// A monotone constraint and its check on the exported file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "MonotoneConstraint"))]
pub struct Monotone {
    pub feature: String,
    /// +1: the probability never falls as the feature rises; -1: never rises.
    pub direction: i8,
    /// Enforced while fitting (else only checked).
    pub enforced: bool,
    /// Rows swept over the feature's training range, and those on which
    /// the probability moved against the direction.
    #[cfg_attr(test, ts(type = "number"))]
    pub rows: u64,
    #[cfg_attr(test, ts(type = "number"))]
    pub violations: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Governance {
    pub protected: Vec<Protected>,
    /// The rows the audit and the proxy AUCs were computed on.
    pub evaluated_on: String,
    pub proxies: Vec<Proxy>,
    pub monotone: Vec<Monotone>,
}

impl Governance {
    /// Every figure a share or an AUC in [0, 1]; directions ±1.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        for p in &self.protected {
            for g in &p.groups {
                if !(unit(g.approval_rate)
                    && unit(g.impact_ratio)
                    && unit(g.tpr)
                    && unit(g.fpr)
                    && unit(g.mean_predicted)
                    && unit(g.observed)
                    && g.auc.is_none_or(unit))
                {
                    return Err(format!(
                        "governance: figures of '{}' are out of range",
                        p.name
                    ));
                }
            }
            if !(unit(p.min_impact_ratio) && unit(p.tpr_gap) && unit(p.fpr_gap)) {
                return Err(format!("governance: gaps of '{}' are out of range", p.name));
            }
        }
        if self.proxies.iter().any(|x| !unit(x.auc)) {
            return Err("governance: a proxy AUC is out of range".into());
        }
        if self.monotone.iter().any(|m| m.direction.abs() != 1) {
            return Err("governance: a monotone direction is not +1 or -1".into());
        }
        Ok(())
    }
}
