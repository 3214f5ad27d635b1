//! Credit conventions through the JS API: reasons with scorecard points
//! (`reasons()` and `score()` return the `Scored` view),
//! drift counts from `predictCsv` turned into PSI by `driftReport`, and the
//! attention model's [CLS] weights.

use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use super::util::*;

#[wasm_bindgen_test]
fn reasons_rank_the_contributions_and_points_follow_the_pdo_scale() {
    for kind in golden_kinds("") {
        let table = Table::read(golden_data("", &kind));
        let s = load(golden(&format!("{kind}.frk")));
        let feats = features(&s);
        for row in table.rows.iter().take(8) {
            let c = customer(&table, row, &feats, true);
            let credit = ok(s.reasons(c.clone(), Some(4), Some("en".into())));
            let e = ok(s.contributions(c.clone()));
            let p = num(&credit, "probability");
            assert_eq!(p, num(&ok(s.predict(c.clone())), "probability"), "{kind}");
            assert_eq!(
                array(&get(&credit, "explanation"), "contributions").len(),
                array(&e, "contributions").len(),
                "{kind}: the explanation is included"
            );
            let opts = score_options(true, Some(4), Some("en"));
            js_sys::Reflect::set(&opts, &"allReasons".into(), &JsValue::TRUE).unwrap();
            let same = ok(s.score(c.clone(), Some(opts)));
            assert_eq!(
                json(&same),
                json(&credit),
                "{kind}: reasons() = score(explain, allReasons)"
            );
            // Without allReasons, an approved customer gets no reason codes.
            let plain = ok(s.score(c.clone(), Some(score_options(true, Some(4), Some("en")))));
            assert_eq!(
                array(&plain, "reasons").is_empty(),
                !boolean(&plain, "decision"),
                "{kind}: reasons for refusals only"
            );
            // Default scale: 600 points at 50:1 good:bad odds, 20 points per doubling.
            let want = 600.0 + 20.0 / std::f64::consts::LN_2 * (((1.0 - p) / p) / 50.0).ln();
            assert!(
                (num(&credit, "points") - want).abs() < 0.01,
                "{kind}: points"
            );
            let reasons = array(&credit, "reasons");
            assert!(reasons.len() <= 4);
            // reasons() is score() with an explanation: the Scored shape.
            let breakdown = get(&credit, "pointsBreakdown");
            let per = array(&breakdown, "features");
            let (statics, steps) = statics_and_steps(&s, &feats);
            assert_eq!(
                per.len(),
                statics.len() + steps,
                "{kind}: points per feature (or per step of a history)"
            );
            let total: f64 =
                num(&breakdown, "base") + per.iter().map(|f| num(f, "points")).sum::<f64>();
            assert!(
                (total - want).abs() < 0.05,
                "{kind}: breakdown {total} vs {want}"
            );
            // Reasons are the largest positive contributions, in order, each
            // worth at least 0.05 points (never a 0-point reason).
            let points_of = |f: &str| {
                per.iter()
                    .find(|p| string(p, "feature") == f)
                    .map_or(0.0, |p| num(p, "points"))
            };
            let mut positive: Vec<(String, f64)> = array(&e, "contributions")
                .iter()
                .map(|c| (string(c, "feature"), num(c, "contribution")))
                .filter(|(f, v)| *v > 0.0 && points_of(f) <= -0.05)
                .collect();
            positive.sort_by(|a, b| b.1.total_cmp(&a.1));
            let got: Vec<String> = reasons.iter().map(|r| string(r, "feature")).collect();
            let want: Vec<String> = positive.iter().take(4).map(|(f, _)| f.clone()).collect();
            assert_eq!(got, want, "{kind}");
            for (i, r) in reasons.iter().enumerate() {
                assert_eq!(num(r, "rank"), (i + 1) as f64);
                assert!(num(r, "points") < 0.0 && !string(r, "text").is_empty());
            }
        }
    }
    // Chinese texts, and a bad customer throws and leaves the scorer usable.
    let s = load(golden("gbm.frk"));
    let feats = features(&s);
    let table = Table::read(golden_data("", "gbm"));
    let c = customer(&table, &table.rows[0], &feats, true);
    let zh = ok(s.reasons(c.clone(), None, Some("zh".into())));
    for r in array(&zh, "reasons") {
        assert!(string(&r, "text").contains("提高了违约风险"));
    }
    let bad = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&bad, &JsValue::from_str("age"), &JsValue::from_str("old"));
    assert_mentions(
        &fails(s.reasons(bad.into(), None, None)),
        &["age", "not a number"],
    );
    ok(s.reasons(c, None, None));
}

#[wasm_bindgen_test]
fn drift_counts_add_up_over_chunks_and_give_psi() {
    let csv = text(golden("synthetic.csv"));
    let s = load(golden("rf.frk"));
    let whole = ok(s.predict_csv(csv));
    let counts: Vec<u32> = js_sys::Uint32Array::new(&get(&whole, "driftCounts")).to_vec();
    // Two chunks counted separately add up to the whole.
    let lines: Vec<&str> = csv.lines().collect();
    let half = lines.len() / 2;
    let first = format!("{}\n", lines[..half].join("\n"));
    let second = format!("{}\n{}\n", lines[0], lines[half..].join("\n"));
    let mut sum = vec![0u32; counts.len()];
    for part in [first, second] {
        let r = ok(s.predict_csv(&part));
        let c = js_sys::Uint32Array::new(&get(&r, "driftCounts")).to_vec();
        for (a, b) in sum.iter_mut().zip(c) {
            *a += b;
        }
    }
    assert_eq!(sum, counts);
    let report = ok(s.drift_report(&counts));
    assert_eq!(num(&report, "rows"), (lines.len() - 1) as f64);
    let feats = array(&report, "features");
    assert_eq!(feats.len(), features(&s).len());
    for f in &feats {
        let psi = num(f, "psi");
        assert!(psi >= 0.0 && psi.is_finite());
        let level = string(f, "level");
        assert_eq!(
            level,
            if psi >= 0.25 {
                "shift"
            } else if psi >= 0.1 {
                "watch"
            } else {
                "stable"
            }
        );
    }
    assert_mentions(&fails(s.drift_report(&[1, 2, 3])), &["drift counts"]);
}
