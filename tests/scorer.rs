//! The scorer on golden model files: records as users type them, warnings,
//! errors that leave the scorer usable, explanations that add up, and
//! evaluation of labelled CSV text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(not(target_arch = "wasm32"))]

use ferrisk::explain::Unit;
use ferrisk::{EvalError, RawValue, ScoreError, Scorer};

fn scorer(kind: &str) -> Scorer {
    let bytes = std::fs::read(format!(
        "{}/tests/golden/{kind}.frk",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    Scorer::from_bytes(&bytes).unwrap()
}

fn data() -> String {
    std::fs::read_to_string(format!(
        "{}/tests/golden/synthetic.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const CUSTOMER: [(&str, RawValue<'static>); 8] = [
    ("age", RawValue::Number(23.0)),
    ("income", RawValue::Text("21000")),
    ("loan_amount", RawValue::Number(15000.0)),
    ("duration_months", RawValue::Text(" 48 ")),
    ("existing_credits", RawValue::Number(2.0)),
    ("employment", RawValue::Text("temporary")),
    ("housing", RawValue::Text("rent")),
    ("purpose", RawValue::Text("business")),
];

#[test]
fn record_and_csv_paths_agree() {
    for kind in ["lr", "svm-linear", "svm-rbf", "rf", "gbm", "attention"] {
        let s = scorer(kind);
        let p = s.predict(CUSTOMER).unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let csv =
            "age,income,loan_amount,duration_months,existing_credits,employment,housing,purpose\n\
                   23,21000,15000,48,2,temporary,rent,business\n";
        let rows = s.score_csv(csv, |_| {}).unwrap();
        match &rows[0] {
            ferrisk::RowScore::Scored { probability, .. } => {
                assert_eq!(probability.to_bits(), p.probability.to_bits(), "{kind}")
            }
            other => panic!("{kind}: {other:?}"),
        }
        assert_eq!(p.decision, p.probability >= p.threshold);
    }
}

#[test]
fn risky_customer_scores_above_a_safe_one() {
    // The synthetic risk function raises risk with the burden ratio, youth,
    // temporary work and renting: every model should rank these two right.
    for kind in ["lr", "svm-linear", "svm-rbf", "rf", "gbm", "attention"] {
        let s = scorer(kind);
        let risky = s.predict(CUSTOMER).unwrap().probability;
        let safe = s
            .predict([
                ("age", RawValue::Number(50.0)),
                ("income", RawValue::Number(60000.0)),
                ("loan_amount", RawValue::Number(2000.0)),
                ("duration_months", RawValue::Number(12.0)),
                ("existing_credits", RawValue::Number(1.0)),
                ("employment", RawValue::Text("permanent")),
                ("housing", RawValue::Text("own")),
                ("purpose", RawValue::Text("car")),
            ])
            .unwrap()
            .probability;
        assert!(risky > safe, "{kind}: risky {risky} <= safe {safe}");
    }
}

#[test]
fn missing_unknown_and_extra_fields_warn() {
    let s = scorer("lr");
    let p = s
        .predict([
            ("age", RawValue::Missing),
            ("income", RawValue::Text("NA")),
            ("employment", RawValue::Text("astronaut")),
            ("favourite_colour", RawValue::Text("blue")),
        ])
        .unwrap();
    let text: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        text.iter()
            .any(|w| w.starts_with("age: missing; imputed the training median")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|w| w.contains("employment: category 'astronaut' was not seen in training")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|w| w.starts_with("favourite_colour: not a feature")),
        "{text:?}"
    );
    // Features not given at all are imputed too (8 features: 5 absent + age + income).
    assert_eq!(
        text.iter()
            .filter(|w| w.contains("missing; imputed"))
            .count(),
        7,
        "{text:?}"
    );
}

#[test]
fn errors_name_the_feature_and_leave_the_scorer_usable() {
    let s = scorer("gbm");
    let e = s.predict([("age", RawValue::Text("forty"))]).unwrap_err();
    assert_eq!(
        e,
        ScoreError::NotANumber {
            feature: "age".into(),
            value: "forty".into()
        }
    );
    let e = s
        .predict([("income", RawValue::Number(f64::INFINITY))])
        .unwrap_err();
    assert!(e.to_string().contains("feature 'income'"), "{e}");
    assert!(s.predict(CUSTOMER).is_ok());
    assert!(matches!(
        s.probability(&[0.0; 3]).unwrap_err(),
        ScoreError::FeatureCount { .. }
    ));
}

#[test]
fn linear_contributions_add_up_to_the_log_odds() {
    for kind in ["lr", "svm-linear"] {
        let s = scorer(kind);
        let e = s.explain(CUSTOMER).unwrap();
        assert_eq!(e.unit, Unit::LogOdds);
        assert_eq!(e.contributions.len(), 8);
        let sum: f32 = e.base + e.contributions.iter().map(|c| c.contribution).sum::<f32>();
        let p = s.predict(CUSTOMER).unwrap().probability as f64;
        let log_odds = (p / (1.0 - p)).ln();
        assert!(
            (sum as f64 - log_odds).abs() < 1e-4,
            "{kind}: {sum} vs {log_odds}"
        );
        assert!((e.output - sum).abs() < 1e-6);
        let housing = e
            .contributions
            .iter()
            .find(|c| c.feature == "housing")
            .unwrap();
        assert_eq!(housing.value, "rent");
    }
    // Every kind explains; the method is named.
    for kind in ["svm-rbf", "rf", "gbm", "attention"] {
        let e = scorer(kind).explain(CUSTOMER).unwrap();
        assert!(!e.method.is_empty());
        let top = e
            .contributions
            .iter()
            .max_by(|a, b| a.contribution.total_cmp(&b.contribution))
            .unwrap();
        assert!(
            top.contribution > 0.0,
            "{kind}: a risky customer has a feature pushing towards default"
        );
    }
}

#[test]
fn evaluate_csv_checks_labels_and_rows() {
    let s = scorer("rf");
    let m = s.evaluate_csv(&data(), |_| {}).unwrap();
    assert_eq!(m.rows, 600);
    assert!(m.roc_auc > 0.7);
    let bad = data().replacen(",yes\n", ",maybe\n", 1);
    let line = bad.lines().position(|l| l.ends_with(",maybe")).unwrap() + 1;
    match s.evaluate_csv(&bad, |_| {}).unwrap_err() {
        EvalError::Label { line: l, value, .. } => {
            assert_eq!((l, value.as_str()), (line, "maybe"));
        }
        other => panic!("{other:?}"),
    }
    let no_label = "age,income,loan_amount,duration_months,existing_credits,employment,housing,purpose\n1,2,3,4,5,a,b,c\n";
    assert!(s
        .evaluate_csv(no_label, |_| {})
        .unwrap_err()
        .to_string()
        .contains("no column 'default'"));
    let one_class: String = data()
        .lines()
        .filter(|l| !l.ends_with(",yes"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(matches!(
        s.evaluate_csv(&one_class, |_| {}).unwrap_err(),
        EvalError::OneClass(_)
    ));
}
