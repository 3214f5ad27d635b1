// Generated from src/views.rs by `FERRISK_BLESS=1 cargo test -p ferrisk views`.
// Do not edit: change the view structs and regenerate.

export type Schema = { label: string, positive: string, negative: string, features: Array<Feature>, };

export type Feature = { "type": "numeric", name: string, min: number, max: number, mean: number, median: number, 
/**
 * The typical value as text (the training median).
 */
typical: string, missingRate: number, } | { "type": "categorical", name: string, 
/**
 * Training categories; `predictBatch` codes index into this list.
 */
categories: Array<string>, 
/**
 * Share of training rows in each category (same order).
 */
frequencies: Array<number>, 
/**
 * The most frequent category.
 */
typical: string, missingRate: number, };

export type Metadata = { 
/**
 * Id of the training algorithm (`ferrisk kinds`): "lr", "gbm", ...
 */
kind: string, 
/**
 * Display name of the training algorithm.
 */
kindName: string, 
/**
 * The model kind the runtime scores ("linear", "trees", ...).
 */
modelKind: ModelKind, formatVersion: number, producer: string, createdUnix: number, dataName: string, dataSha256: string, dataRows: number, params: Array<[string, string]>, notes: Array<string>, threshold: number, explanationMethod: string, embedsTrainingRows: boolean, 
/**
 * How the threshold was chosen (null for files written before
 * threshold policies).
 */
decision: Decision | null, 
/**
 * The calibration applied and how it was chosen (null likewise).
 */
calibration: CalibrationInfo | null, 
/**
 * Protected attributes, fairness audit, proxy screening and monotone
 * constraints (null for files trained without them). The runtime
 * carries it as the file's JSON text: the wasm `metadata()`, the CLI
 * and the service give the parsed object.
 */
governance: Governance | null, 
/**
 * The history a sequence kind reads (absent for other kinds).
 */
history?: History, };

export type Decision = { 
/**
 * Canonical text: "cost:FN=5,FP=1", "approval-rate:0.7", "max-f1", "ks", "fixed:0.5".
 */
policy: string, kind: "fixed" | "cost" | "approval-rate" | "max-f1" | "ks", 
/**
 * Cost of approving a bad customer (a false negative); cost policies.
 */
costFn: number | null, 
/**
 * Cost of refusing a good customer (a false positive); cost policies.
 */
costFp: number | null, targetApprovalRate: number | null, threshold: number, 
/**
 * The rows the threshold was chosen on.
 */
chosenOn: string, 
/**
 * At the threshold, on those rows.
 */
approvalRate: number, badRateApproved: number, expectedCost: number | null, 
/**
 * The same on the evaluation rows (null without them).
 */
evaluated: Cut | null, 
/**
 * And on the evaluation rows at the threshold 0.5, for comparison.
 */
evaluatedAtHalf: Cut | null, };

export type Cut = { threshold: number, rows: number, approvalRate: number, badRateApproved: number, expectedCost: number | null, };

export type CalibrationInfo = { method: string, chosenBy: string, };

export type Governance = { protected: Array<ProtectedAttribute>, 
/**
 * The rows the audit and the proxy AUCs were computed on.
 */
evaluatedOn: string, proxies: Array<Proxy>, monotone: Array<MonotoneConstraint>, };

export type ProtectedAttribute = { 
/**
 * The column.
 */
name: string, 
/**
 * How a numeric column is grouped (`"<25"`), empty for categories.
 */
bands: string, 
/**
 * True when the model takes it as an input (`--use-protected`).
 */
input: boolean, groups: Array<FairnessGroup>, 
/**
 * Lowest impact ratio, and the largest TPR and FPR differences
 * between groups.
 */
minImpactRatio: number, tprGap: number, fprGap: number, };

export type FairnessGroup = { 
/**
 * `"< 25"`, `">= 25"`, a category, or `"(missing)"`.
 */
name: string, rows: number, 
/**
 * Rows of the positive class.
 */
positives: number, approvalRate: number, 
/**
 * Approval rate / the highest group approval rate (four-fifths rule:
 * below 0.8 is adverse impact).
 */
impactRatio: number, 
/**
 * Share of positive rows refused (equal opportunity compares these).
 */
tpr: number, 
/**
 * Share of negative rows refused (with TPR: equalised odds).
 */
fpr: number, 
/**
 * ROC AUC within the group (`None` when it holds one class only).
 */
auc: number | null, 
/**
 * Calibration in the large: mean predicted probability and observed
 * positive rate.
 */
meanPredicted: number, observed: number, };

export type Proxy = { feature: string, protected: string, 
/**
 * AUC of predicting the group from the feature alone, folded to
 * >= 0.5 (the best one-vs-rest group for several groups).
 */
auc: number, 
/**
 * The strongest proxy of its protected attribute.
 */
flagged: boolean, };

export type MonotoneConstraint = { feature: string, 
/**
 * +1: the probability never falls as the feature rises; -1: never rises.
 */
direction: number, 
/**
 * Enforced while fitting (else only checked).
 */
enforced: boolean, 
/**
 * Rows swept over the feature's training range, and those on which
 * the probability moved against the direction.
 */
rows: number, violations: number, };

export type Confusion = { tn: number, fp: number, fn: number, tp: number, };

export type RocPoint = { fpr: number, tpr: number, 
/**
 * Scores >= threshold are called positive at this point.
 */
threshold: number, };

export type ReliabilityBin = { meanPredicted: number, observed: number, rows: number, };

export type Metrics = { rows: number, positives: number, threshold: number, accuracy: number, precision: number, recall: number, f1: number, rocAuc: number, ks: number, brier: number, logLoss: number, confusion: Confusion, roc: Array<RocPoint>, 
/**
 * Expected calibration error over 10 equal-frequency bins (null for
 * metrics stored before it was).
 */
ece: number | null, 
/**
 * The reliability curve's bins, lowest probabilities first ([] when unknown).
 */
reliability: Array<ReliabilityBin>, averagePrecision: number | null, 
/**
 * What the metrics were computed on (training report only).
 */
evaluatedOn: string | null, 
/**
 * Cross-validation AUC per fold (training report only).
 */
cvAuc: Array<number> | null, trainRows: number | null, testRows: number | null, fitSeconds: number | null, };

export type Prediction = { 
/**
 * Probability of the positive class.
 */
probability: number, 
/**
 * `probability >= threshold`.
 */
decision: boolean, threshold: number, 
/**
 * The model's raw output before calibration.
 */
margin: number, 
/**
 * Imputed values, unknown categories, ignored fields.
 */
warnings: Array<string>, };

export type Contribution = { feature: string, 
/**
 * The customer's value as display text (after imputation).
 */
value: string, contribution: number, 
/**
 * Present when the player is a step of a history (sequence kinds).
 */
step?: Step, };

export type Step = { 
/**
 * 1 = the most recent step.
 */
age: number, 
/**
 * "2 months ago".
 */
ago: string, 
/**
 * Each channel's display value at this step, in the order of
 * `Metadata.history.channels`.
 */
values: Array<string>, };

export type History = { name: string, 
/**
 * "month".
 */
unit: string, steps: number, channels: Array<HistoryChannel>, };

export type HistoryChannel = { name: string, kind: "numeric" | "categorical", 
/**
 * The schema feature of each step, oldest first.
 */
features: Array<string>, };

export type Explanation = { base: number, output: number, unit: "log-odds" | "probability", method: string, 
/**
 * Sampled explanations: the largest estimated standard error of a
 * contribution relative to the sum of their absolute values (e.g.
 * 0.002); null for exact methods.
 */
convergence: number | null, probability: number, contributions: Array<Contribution>, warnings: Array<string>, };

export type Reason = { rank: number, feature: string, value: string, 
/**
 * Contribution towards the positive class, in the explanation's unit.
 */
contribution: number, 
/**
 * Scorecard points this feature cost the customer (negative).
 */
points: number, text: string, };

export type FeaturePoints = { feature: string, points: number, };

export type PointsBreakdown = { 
/**
 * Points of an average customer.
 */
base: number, 
/**
 * Every feature's points, schema order.
 */
features: Array<FeaturePoints>, };

export type Scored = { probability: number, decision: boolean, threshold: number, margin: number, warnings: Array<string>, 
/**
 * The score in scorecard points (PDO scaling stored in the model file).
 */
points: number, 
/**
 * Present when an explanation was asked for.
 */
explanation: Explanation | null, 
/**
 * The principal reasons, largest first (empty without an explanation).
 */
reasons: Array<Reason>, pointsBreakdown: PointsBreakdown | null, 
/**
 * The decision record, when asked for (`record: true`).
 */
record?: DecisionRecord, };

export type DecisionRecord = { 
/**
 * Layout version of the record (1).
 */
record: number, 
/**
 * SHA-256 of the model file (without a signature block).
 */
modelSha256: string, 
/**
 * The ferrisk version that scored the row.
 */
ferrisk: string, 
/**
 * The file's threshold policy ("max-f1", "cost:FN=5,FP=1", ...).
 */
policy: string, threshold: number, 
/**
 * SHA-256 of the inputs as parsed (schema order).
 */
inputsSha256: string, probability: number, decision: boolean, points: number, 
/**
 * The principal reasons' features, rank order.
 */
reasons: Array<string>, 
/**
 * Reasons asked for (0: no explanation).
 */
reasonCount: number, 
/**
 * Reasons given whatever the decision.
 */
allReasons: boolean, };

export type Psi = { psi: number, level: "stable" | "watch" | "shift", };

export type FeaturePsi = { feature: string, psi: number, level: "stable" | "watch" | "shift", };

export type DriftReport = { rows: number, score: Psi, features: Array<FeaturePsi>, };

export type FeatureAttention = { feature: string, 
/**
 * `[CLS]` attention weight on this feature (last block, mean over heads).
 */
weight: number, };

export type CsvRowError = { line: number, message: string, 
/**
 * The error's stable code (`crate::error::CODES`): `CSV_ROW` for a
 * record the reader could not split, `BAD_VALUE` for a bad value, ...
 */
code: ErrorCode, };

/** The model kinds this runtime scores (`Metadata.modelKind`). */
export type ModelKind = "linear" | "kernel-svm" | "trees" | "attention" | "stump" | "trees-cat" | "forest" | "gru" | "tcn";

/** Every `FerriskError.code` (ferrisk::error::CODES). */
export type ErrorCode = "FORMAT_TRUNCATED" | "FORMAT_BAD_MAGIC" | "FORMAT_BAD_VERSION" | "FORMAT_FROM_FUTURE" | "FORMAT_LENGTH" | "FORMAT_TOO_LARGE" | "CHECKSUM" | "FORMAT_DECODE" | "FORMAT_INVALID" | "UNKNOWN_KIND" | "UNKNOWN_SECTION" | "FORMAT_ENCODE" | "BAD_VALUE" | "FEATURE_COUNT" | "NO_VALUES" | "NOT_FINITE_OUTPUT" | "UNSUPPORTED" | "EXPLAIN_BUDGET" | "CSV_EMPTY" | "CSV_ROW" | "CSV_HEADER" | "CSV_MISSING_COLUMN" | "CSV_NO_ROWS" | "CSV_LABEL" | "ONE_CLASS" | "BATCH_SHAPE" | "SIGNATURE" | "UNTRUSTED" | "INTERNAL" | "BAD_ARGUMENT" | "FETCH" | "INTEGRITY" | "WORKER";
