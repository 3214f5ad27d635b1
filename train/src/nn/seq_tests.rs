//! Oracles of the GRU, TCN and sequence-classifier passes: a plain scalar
//! reference in `f64`, written per row and per step from the equations
//! (no batching, no im2col, no matrix products), and central finite
//! differences of that reference's loss for every parameter and input.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use super::gru::{gru_backward, gru_forward, GruDims, GruSpans, GruWs};
use super::seq::{Encoder, SeqNet, SeqShape};
use super::tcn::{conv_backward, conv_forward, ConvDims};
use super::{Allocator, Span};

fn normal(rng: &mut SmallRng, n: usize, scale: f64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let v: f64 = StandardNormal.sample(rng);
            (scale * v) as f32
        })
        .collect()
}

fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

fn sig(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// One row of the reference GRU: `x` is `t × input`; returns `t × h`.
fn ref_gru(x: &[f64], mask: &[f64], p: &[f64], s: &GruSpans, input: usize, h: usize) -> Vec<f64> {
    let t = mask.len();
    let (w, u, bi, bh) = (
        &p[s.w.at..s.w.end()],
        &p[s.u.at..s.u.end()],
        &p[s.bi.at..s.bi.end()],
        &p[s.bh.at..s.bh.end()],
    );
    let dot = |m: &[f64], row: usize, v: &[f64]| -> f64 {
        (0..v.len()).map(|k| m[row * v.len() + k] * v[k]).sum()
    };
    let mut state = vec![0.0; h];
    let mut out = Vec::new();
    for s in 0..t {
        let xs = &x[s * input..(s + 1) * input];
        let mut next = state.clone();
        if mask[s] != 0.0 {
            for j in 0..h {
                let z = sig(dot(w, j, xs) + bi[j] + dot(u, j, &state) + bh[j]);
                let r = sig(dot(w, h + j, xs) + bi[h + j] + dot(u, h + j, &state) + bh[h + j]);
                let n = (dot(w, 2 * h + j, xs)
                    + bi[2 * h + j]
                    + r * (dot(u, 2 * h + j, &state) + bh[2 * h + j]))
                    .tanh();
                next[j] = (1.0 - z) * n + z * state[j];
            }
        }
        state = next;
        out.extend_from_slice(&state);
    }
    out
}

/// One row of the reference causal convolution: `x` is `t × cin`.
#[allow(clippy::too_many_arguments)]
fn ref_conv(
    x: &[f64],
    w: &[f64],
    b: &[f64],
    t: usize,
    cin: usize,
    cout: usize,
    k: usize,
    dil: usize,
) -> Vec<f64> {
    let mut y = vec![0.0; t * cout];
    for s in 0..t {
        for o in 0..cout {
            let mut acc = b[o];
            for j in 0..k {
                let back = (k - 1 - j) * dil;
                if back > s {
                    continue;
                }
                for c in 0..cin {
                    acc += w[o * k * cin + j * cin + c] * x[(s - back) * cin + c];
                }
            }
            y[s * cout + o] = acc;
        }
    }
    y
}

/// The reference logit of one row.
fn ref_logit(
    net: &SeqNet,
    p: &[f64],
    seq: &[f64],
    mask: &[f64],
    stat: &[f64],
    drop: &[f64],
) -> f64 {
    let s = &net.shape;
    let l = &net.layout;
    let (t, h, c) = (s.steps, s.hidden, s.channels);
    let span = |sp: Span| &p[sp.at..sp.end()];
    let enc: Vec<f64> = match s.encoder {
        Encoder::Gru => {
            let mut x = seq.to_vec();
            let mut input = c;
            for g in &l.gru {
                x = ref_gru(&x, mask, p, g, input, h);
                input = h;
            }
            x[(t - 1) * h..].to_vec()
        }
        Encoder::Tcn => {
            let mut xin = Vec::new();
            for st in 0..t {
                xin.extend_from_slice(&seq[st * c..(st + 1) * c]);
                xin.push(mask[st]);
            }
            let mut u = ref_conv(&xin, span(l.tcn_in_w), span(l.tcn_in_b), t, c + 1, h, 1, 1);
            for cs in &l.conv {
                let y = ref_conv(&u, span(cs.w), span(cs.b), t, h, h, s.kernel, cs.dilation);
                for (a, v) in u.iter_mut().zip(y) {
                    *a += v.max(0.0);
                }
            }
            u[(t - 1) * h..].to_vec()
        }
    };
    let cat: Vec<f64> = enc.iter().chain(stat).copied().collect();
    let (w1, b1, w2, b2) = (
        span(l.head_w1),
        span(l.head_b1),
        span(l.head_w2),
        span(l.head_b2),
    );
    let mut z = b2[0];
    for o in 0..s.head {
        let pre: f64 = b1[o]
            + (0..cat.len())
                .map(|k| w1[o * cat.len() + k] * cat[k])
                .sum::<f64>();
        z += w2[o] * pre.max(0.0) * drop[o];
    }
    z
}

fn assert_close(what: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let tol = 2e-4 + 2e-3 * w.abs();
        assert!(
            (f64::from(g) - w).abs() <= tol,
            "{what}[{i}]: engine {g}, finite differences {w}"
        );
    }
}

/// Central differences of `f` at every coordinate of `x`.
fn fd(x: &[f64], f: &dyn Fn(&[f64]) -> f64) -> Vec<f64> {
    let eps = 1e-6;
    let mut x = x.to_vec();
    (0..x.len())
        .map(|i| {
            let v = x[i];
            x[i] = v + eps;
            let up = f(&x);
            x[i] = v - eps;
            let down = f(&x);
            x[i] = v;
            (up - down) / (2.0 * eps)
        })
        .collect()
}

#[test]
fn gru_layer_gradients_with_missing_steps_match_finite_differences() {
    let (m, t, input, h) = (3, 5, 2, 4);
    let mut rng = SmallRng::seed_from_u64(7);
    let mut a = Allocator::default();
    let spans = GruSpans::new(&mut a, input, h);
    let p = normal(&mut rng, a.len, 0.6);
    let x = normal(&mut rng, m * t * input, 1.0);
    // Row 0 all present; row 1 misses its first two steps; row 2 misses
    // steps 2 and 4 (the last).
    let mut mask = vec![1.0f32; m * t];
    for (b, s) in [(1, 0), (1, 1), (2, 2), (2, 4)] {
        mask[b * t + s] = 0.0;
    }
    let proj = normal(&mut rng, m * t * h, 1.0);
    let d = GruDims {
        m,
        t,
        input,
        hidden: h,
    };
    let mut ws = GruWs::new(m, t, h);
    gru_forward(d, &p, &spans, &x, &mask, &mut ws);
    let (pd, xd, md, rd) = (f64s(&p), f64s(&x), f64s(&mask), f64s(&proj));
    let loss = |p: &[f64], x: &[f64]| -> f64 {
        (0..m)
            .map(|b| {
                let out = ref_gru(
                    &x[b * t * input..(b + 1) * t * input],
                    &md[b * t..(b + 1) * t],
                    p,
                    &spans,
                    input,
                    h,
                );
                out.iter()
                    .zip(&rd[b * t * h..(b + 1) * t * h])
                    .map(|(o, r)| o * r)
                    .sum::<f64>()
            })
            .sum()
    };
    // The forward pass itself, then every gradient.
    for b in 0..m {
        let out = ref_gru(
            &xd[b * t * input..(b + 1) * t * input],
            &md[b * t..(b + 1) * t],
            &pd,
            &spans,
            input,
            h,
        );
        assert_close("states", &ws.out[b * t * h..(b + 1) * t * h], &out);
    }
    let mut dout = proj.clone();
    let mut grads = vec![0.0f32; a.len];
    let mut dx = vec![0.0f32; m * t * input];
    gru_backward(
        d,
        &p,
        &spans,
        &x,
        &mask,
        &mut ws,
        &mut dout,
        &mut grads,
        Some(&mut dx),
    );
    assert_close("dparams", &grads, &fd(&pd, &|p| loss(p, &xd)));
    assert_close("dx", &dx, &fd(&xd, &|x| loss(&pd, x)));
    // A missing step's input gets no gradient.
    assert!(dx[(t + 1) * input..(t + 2) * input]
        .iter()
        .all(|&g| g == 0.0));
}

#[test]
fn causal_dilated_conv_gradients_match_finite_differences() {
    for (kernel, dilation) in [(2, 1), (3, 2), (2, 4)] {
        let (m, t, cin, cout) = (2, 7, 3, 4);
        let mut rng = SmallRng::seed_from_u64(11 + dilation as u64);
        let mut a = Allocator::default();
        let (sw, sb) = (a.take(cout * kernel * cin), a.take(cout));
        let p = normal(&mut rng, a.len, 0.5);
        let x = normal(&mut rng, m * t * cin, 1.0);
        let proj = normal(&mut rng, m * t * cout, 1.0);
        let d = ConvDims {
            m,
            t,
            cin,
            cout,
            kernel,
            dilation,
        };
        let mut cols = vec![0.0f32; m * t * kernel * cin];
        let mut y = vec![0.0f32; m * t * cout];
        conv_forward(d, &x, sw.of(&p), sb.of(&p), &mut cols, &mut y);
        let (pd, xd, rd) = (f64s(&p), f64s(&x), f64s(&proj));
        let run = |p: &[f64], x: &[f64]| -> Vec<f64> {
            (0..m)
                .flat_map(|b| {
                    ref_conv(
                        &x[b * t * cin..(b + 1) * t * cin],
                        &p[sw.at..sw.end()],
                        &p[sb.at..sb.end()],
                        t,
                        cin,
                        cout,
                        kernel,
                        dilation,
                    )
                })
                .collect()
        };
        assert_close("conv output", &y, &run(&pd, &xd));
        let loss =
            |p: &[f64], x: &[f64]| -> f64 { run(p, x).iter().zip(&rd).map(|(a, b)| a * b).sum() };
        let mut grads = vec![0.0f32; a.len];
        let mut dx = vec![0.0f32; m * t * cin];
        let mut dcols = vec![0.0f32; cols.len()];
        conv_backward(
            d,
            &cols,
            sw.of(&p),
            &proj,
            &mut grads,
            sw,
            sb,
            Some((&mut dx, &mut dcols)),
        );
        assert_close("conv dparams", &grads, &fd(&pd, &|p| loss(p, &xd)));
        assert_close("conv dx", &dx, &fd(&xd, &|x| loss(&pd, x)));
    }
}

/// A tiny classifier's inputs: rows with random missing steps (the first
/// row's leading steps, like a recently opened account).
struct Tiny {
    seq: Vec<f32>,
    mask: Vec<f32>,
    stat: Vec<f32>,
    y: Vec<bool>,
    w: Vec<f64>,
}

fn tiny_data(s: &SeqShape, rows: usize, seed: u64) -> Tiny {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut mask: Vec<f32> = (0..rows * s.steps)
        .map(|_| if rng.random::<f64>() < 0.25 { 0.0 } else { 1.0 })
        .collect();
    mask[0] = 0.0;
    mask[1] = 0.0;
    let mut seq = normal(&mut rng, rows * s.steps * s.channels, 1.0);
    for (cell, &p) in mask.iter().enumerate() {
        if p == 0.0 {
            seq[cell * s.channels..(cell + 1) * s.channels].fill(0.0);
        }
    }
    Tiny {
        seq,
        mask,
        stat: normal(&mut rng, rows * s.statics, 1.0),
        y: (0..rows).map(|_| rng.random::<bool>()).collect(),
        w: (0..rows).map(|_| rng.random_range(0.5..2.0)).collect(),
    }
}

/// The classifier's weighted log-loss gradient against finite differences
/// of the reference, in eval mode and in training mode (head dropout).
fn check_classifier(shape: SeqShape, dropout: f32) {
    let net = SeqNet::new(shape);
    let rows = 4;
    let data = tiny_data(&shape, rows, 5);
    let mut rng = SmallRng::seed_from_u64(3);
    let p = normal(&mut rng, net.layout.len, 0.5);
    let mut ws = net.workspace(rows);
    ws.seq[..data.seq.len()].copy_from_slice(&data.seq);
    ws.mask[..data.mask.len()].copy_from_slice(&data.mask);
    ws.stat[..data.stat.len()].copy_from_slice(&data.stat);
    let mut drng = SmallRng::seed_from_u64(9);
    net.forward(
        &p,
        &mut ws,
        rows,
        (dropout > 0.0).then_some((&mut drng, dropout)),
    );
    let drop = f64s(&ws.drop);
    if dropout > 0.0 {
        assert!(drop.contains(&0.0), "some units dropped");
    }
    let (t, c, st, hd) = (shape.steps, shape.channels, shape.statics, shape.head);
    let (sd, md, td) = (f64s(&data.seq), f64s(&data.mask), f64s(&data.stat));
    let logits = |p: &[f64]| -> Vec<f64> {
        (0..rows)
            .map(|b| {
                ref_logit(
                    &net,
                    p,
                    &sd[b * t * c..(b + 1) * t * c],
                    &md[b * t..(b + 1) * t],
                    &td[b * st..(b + 1) * st],
                    &drop[b * hd..(b + 1) * hd],
                )
            })
            .collect()
    };
    let pd = f64s(&p);
    assert_close("logits", &ws.logits[..rows], &logits(&pd));
    let loss = |p: &[f64]| -> f64 {
        logits(p)
            .iter()
            .zip(&data.y)
            .zip(&data.w)
            .map(|((&z, &y), &w)| {
                w * (z.max(0.0) - if y { z } else { 0.0 } + (-z.abs()).exp().ln_1p())
            })
            .sum()
    };
    for b in 0..rows {
        let z = f64::from(ws.logits[b]);
        let target = if data.y[b] { 1.0 } else { 0.0 };
        ws.dlogits[b] = ((sig(z) - target) * data.w[b]) as f32;
    }
    let mut grads = vec![0.0f32; net.layout.len];
    net.backward(&p, &mut ws, rows, &mut grads);
    assert_close("classifier dparams", &grads, &fd(&pd, &loss));
}

fn shape(encoder: Encoder, layers: usize, kernel: usize) -> SeqShape {
    SeqShape {
        encoder,
        steps: 6,
        channels: 2,
        statics: 3,
        hidden: 4,
        layers,
        kernel,
        head: 5,
    }
}

#[test]
fn gru_classifier_gradients_match_finite_differences() {
    check_classifier(shape(Encoder::Gru, 1, 0), 0.0);
    check_classifier(shape(Encoder::Gru, 2, 0), 0.0);
    check_classifier(shape(Encoder::Gru, 2, 0), 0.4);
}

#[test]
fn tcn_classifier_gradients_match_finite_differences() {
    check_classifier(shape(Encoder::Tcn, 2, 2), 0.0);
    check_classifier(shape(Encoder::Tcn, 3, 3), 0.0);
    check_classifier(shape(Encoder::Tcn, 3, 2), 0.4);
}
