use super::*;
use crate::bins::Matrix;
use ferrisk::Kind as _;
use rand_distr::{Distribution, StandardNormal};

/// Rows whose label follows the last *present* step (accounts end
/// 0–3 steps before the window does, and 10 % miss their first steps):
/// P(y) = σ(3·x_last − 1.5·x_{last−1}) on channel 0; channel 1 and the
/// static feature are noise. Also returns the true log-odds.
fn last_step_problem(rows: usize, seed: u64) -> (SeqData, Vec<bool>, Vec<f64>) {
    let (t, c) = (8, 2);
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut d = SeqData {
        rows,
        steps: t,
        channels: c,
        statics: 1,
        seq: vec![0.0; rows * t * c],
        mask: vec![0.0; rows * t],
        stat: vec![0.0; rows],
    };
    let mut y = Vec::new();
    let mut truth = Vec::new();
    let gauss = |rng: &mut SmallRng| -> f32 {
        let v: f64 = StandardNormal.sample(rng);
        v as f32
    };
    for r in 0..rows {
        let end = t - rng.random_range(0..4usize);
        let start = if rng.random::<f64>() < 0.1 { 2 } else { 0 };
        for s in start..end {
            d.mask[r * t + s] = 1.0;
            for ch in 0..c {
                d.seq[(r * t + s) * c + ch] = gauss(&mut rng);
            }
        }
        d.stat[r] = gauss(&mut rng);
        let last = f64::from(d.seq[(r * t + end - 1) * c]);
        let before = f64::from(d.seq[(r * t + end - 2) * c]);
        let z = 3.0 * last - 1.5 * before;
        truth.push(z);
        y.push(rng.random::<f64>() < 1.0 / (1.0 + (-z).exp()));
    }
    (d, y, truth)
}

fn auc(scores: &[f64], y: &[bool]) -> f64 {
    crate::stats::auc(scores, y).unwrap_or(f64::NAN)
}

fn small(encoder: Encoder) -> SeqParams {
    let p = match encoder {
        Encoder::Gru => SeqParams::gru(),
        Encoder::Tcn => SeqParams::tcn(),
    };
    p.hidden(16).head(16).epochs(40).batch_size(64).patience(6)
}

fn rows_of(d: &SeqData, r: usize) -> (&[f32], &[f32], &[f32]) {
    let (tc, t, s) = (d.steps * d.channels, d.steps, d.statics);
    (
        &d.seq[r * tc..(r + 1) * tc],
        &d.mask[r * t..(r + 1) * t],
        &d.stat[r * s..(r + 1) * s],
    )
}

#[test]
fn learns_where_order_matters_and_beats_a_flat_logistic_regression() {
    let (train, y, _) = last_step_problem(3000, 1);
    let (test, yt, truth) = last_step_problem(2000, 2);
    let bayes = auc(&truth, &yt);
    // The flat model: every cell, every presence flag and the static.
    let flat = |d: &SeqData| -> Matrix {
        let cols = d.steps * d.channels + d.steps + d.statics;
        let mut m = Matrix::zeros(d.rows, cols);
        for r in 0..d.rows {
            let (seq, mask, stat) = rows_of(d, r);
            let row = m.row_mut(r);
            row[..seq.len()].copy_from_slice(seq);
            row[seq.len()..seq.len() + mask.len()].copy_from_slice(mask);
            row[seq.len() + mask.len()..].copy_from_slice(stat);
        }
        m
    };
    let lr = crate::algo::linear::fit_logistic(
        &flat(&train),
        &y,
        &vec![1.0; y.len()],
        &crate::algo::linear::LogisticParams::default(),
    )
    .unwrap();
    let xt = flat(&test);
    let lr_auc = auc(
        &(0..test.rows)
            .map(|r| f64::from(lr.output(xt.row(r))))
            .collect::<Vec<_>>(),
        &yt,
    );
    for encoder in [Encoder::Gru, Encoder::Tcn] {
        let (model, outcome) = fit(
            &train,
            &y,
            &vec![1.0; y.len()],
            &small(encoder),
            &mut |_| {},
        )
        .unwrap();
        let z = logits(&model, &test).unwrap();
        let a = auc(&z.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(), &yt);
        assert!(
            a >= bayes - 0.03 && a >= lr_auc + 0.05,
            "{encoder:?}: AUC {a:.4}, the true log-odds {bayes:.4}, flat logistic regression \
             {lr_auc:.4} ({outcome:?})"
        );
    }
}

#[test]
fn the_per_row_forward_matches_the_engine() {
    let (d, y, _) = last_step_problem(300, 3);
    for p in [
        small(Encoder::Gru).layers(2).epochs(2),
        small(Encoder::Tcn).kernel(2).epochs(2),
    ] {
        let (model, _) = fit(&d, &y, &vec![1.0; y.len()], &p, &mut |_| {}).unwrap();
        let z = logits(&model, &d).unwrap();
        for (r, &zr) in z.iter().enumerate() {
            let (seq, mask, stat) = rows_of(&d, r);
            let plain = model.logit(seq, mask, stat);
            assert!(
                (plain - zr).abs() <= 1e-5 * (1.0 + zr.abs()),
                "{:?} row {r}: per-row {plain}, engine {zr}",
                p.encoder
            );
        }
    }
}

#[test]
fn same_weights_on_one_two_or_three_threads() {
    // Batches of 32 rows are cut into 8 chunks whatever the thread count;
    // each chunk's dropout stream and gradient buffer is its own and the
    // buffers are summed in chunk order.
    let (d, y, _) = last_step_problem(400, 4);
    for encoder in [Encoder::Gru, Encoder::Tcn] {
        let p = small(encoder).epochs(3).batch_size(32).dropout(0.3);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit(&d, &y, &vec![1.0; y.len()], &p, &mut |_| {}).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(2), "{encoder:?}");
        assert_eq!(one, run(3), "{encoder:?}");
        let other = fit(&d, &y, &vec![1.0; y.len()], &p.clone().seed(7), &mut |_| {}).unwrap();
        assert_ne!(one.0, other.0, "another seed, other weights");
    }
}

#[test]
fn early_stopping_reports_every_epoch_and_keeps_the_best() {
    let (d, y, _) = last_step_problem(600, 5);
    let mut lines = Vec::new();
    let (model, outcome) = fit(
        &d,
        &y,
        &vec![1.0; y.len()],
        &small(Encoder::Gru).epochs(60).patience(2).lr(0.02),
        &mut |e| lines.push(e.clone()),
    )
    .unwrap();
    assert_eq!(lines.len(), outcome.epochs);
    let best = lines
        .iter()
        .min_by(|a, b| a.valid_loss.total_cmp(&b.valid_loss))
        .unwrap();
    assert_eq!(best.epoch, outcome.best_epoch);
    assert!(best.best && lines[0].line().contains("valid loss"));
    if outcome.stop == Stop::Patience {
        assert_eq!(outcome.epochs, outcome.best_epoch + 2);
    }
    // The kept weights are the best epoch's: recomputing its validation
    // loss over the same split gives the reported figure.
    let mut rng = SmallRng::seed_from_u64(42);
    let (_, valid) = split::stratified_split(&y, 0.15, rng.random());
    let sub = SeqData {
        rows: valid.len(),
        seq: valid
            .iter()
            .flat_map(|&r| rows_of(&d, r).0.to_vec())
            .collect(),
        mask: valid
            .iter()
            .flat_map(|&r| rows_of(&d, r).1.to_vec())
            .collect(),
        stat: valid
            .iter()
            .flat_map(|&r| rows_of(&d, r).2.to_vec())
            .collect(),
        ..d.clone()
    };
    let vy: Vec<bool> = valid.iter().map(|&r| y[r]).collect();
    let z = logits(&model, &sub).unwrap();
    let loss = crate::nn::chunks::weighted_log_loss(&z, &vy, &vec![1.0; vy.len()]);
    assert!(
        (loss - best.valid_loss).abs() < 1e-9,
        "{loss} vs {}",
        best.valid_loss
    );
}

#[test]
fn max_time_stops_with_the_weights_so_far() {
    let (d, y, _) = last_step_problem(200, 6);
    let (_, outcome) = fit(
        &d,
        &y,
        &vec![1.0; y.len()],
        &small(Encoder::Tcn).max_seconds(Some(1e-12)),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(outcome.stop, Stop::Timeout);
    assert_eq!(outcome.best_epoch, 0);
}

#[test]
fn rejects_bad_parameters_and_data() {
    let (d, y, _) = last_step_problem(100, 7);
    let w = vec![1.0f32; y.len()];
    let bad_params = [
        SeqParams::gru().hidden(0),
        SeqParams::gru().hidden(MAX_HIDDEN + 1),
        SeqParams::gru().layers(0),
        SeqParams::tcn().kernel(1),
        SeqParams::tcn().kernel(MAX_KERNEL + 1),
        SeqParams::gru().dropout(1.0),
        SeqParams::gru().lr(f64::NAN),
        SeqParams::gru().epochs(0),
        SeqParams::gru().batch_size(0),
        SeqParams::gru().validation_fraction(1.0),
        SeqParams::gru().max_seconds(Some(0.0)),
    ];
    for p in bad_params {
        assert!(
            matches!(
                fit(&d, &y, &w, &p, &mut |_| {}),
                Err(SeqError::InvalidParam { .. })
            ),
            "{p:?}"
        );
    }
    let mut nan = d.clone();
    nan.seq[5] = f32::NAN;
    let mut mask = d.clone();
    mask.mask[3] = 0.5;
    let mut short = d.clone();
    short.stat.pop();
    for bad in [nan, mask, short] {
        assert!(matches!(
            fit(&bad, &y, &w, &SeqParams::gru(), &mut |_| {}),
            Err(SeqError::Data(_))
        ));
    }
    assert!(fit(&d, &y[1..], &w, &SeqParams::gru(), &mut |_| {}).is_err());
    assert!(fit(&d, &vec![true; y.len()], &w, &SeqParams::gru(), &mut |_| {}).is_err());
}

#[test]
fn sample_weights_shift_the_model_like_copies_do() {
    // Weight 3 on the positives raises the fitted probabilities (as three
    // copies of each positive would); equal weights change nothing.
    let (d, y, _) = last_step_problem(1500, 8);
    let p = small(Encoder::Gru).epochs(5).patience(0);
    let ones = vec![1.0f32; y.len()];
    let (plain, _) = fit(&d, &y, &ones, &p, &mut |_| {}).unwrap();
    let (twos, _) = fit(&d, &y, &vec![2.0; y.len()], &p, &mut |_| {}).unwrap();
    assert_eq!(plain, twos, "uniform weights are no weights");
    let up: Vec<f32> = y.iter().map(|&t| if t { 3.0 } else { 1.0 }).collect();
    let (weighted, _) = fit(&d, &y, &up, &p, &mut |_| {}).unwrap();
    let mean_p = |m: &SeqModel| {
        let z = logits(m, &d).unwrap();
        z.iter()
            .map(|&v| 1.0 / (1.0 + (-f64::from(v)).exp()))
            .sum::<f64>()
            / z.len() as f64
    };
    let (a, b) = (mean_p(&plain), mean_p(&weighted));
    let rate = y.iter().filter(|&&t| t).count() as f64 / y.len() as f64;
    // Three copies of each positive: a positive rate of 3r / (1 + 2r).
    let copies = 3.0 * rate / (1.0 + 2.0 * rate);
    assert!(
        b > a + 0.05 && (b - copies).abs() < 0.05,
        "mean probability {a:.3} unweighted, {b:.3} weighted (copies: {copies:.3})"
    );
}
