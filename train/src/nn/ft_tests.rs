//! Oracles of the hand-written FT-Transformer passes: (1) candle's autodiff
//! (the implementation the engine replaced, a dev-dependency only) for the
//! eval-mode logits and every parameter's gradient; (2) central finite
//! differences of the training-mode loss (dropout masks fixed by the seed).

use candle_core::{Device, Tensor, Var, D};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use super::ft::{Net, Shape, Token};
use super::Span;

/// Numeric, 3-category, numeric, 2-category features; `blocks` blocks
/// (the last one `[CLS]`-only), FFN 16, `heads` heads of width `dk`
/// (8 and 16 take the unrolled attention loops, others the general ones).
fn tiny(blocks: usize, heads: usize, dk: usize) -> Net {
    Net::new(Shape {
        d: heads * dk,
        heads,
        blocks,
        ffn: 16,
        n_num: 2,
        n_cat: 2,
        // (3 + 1) + (2 + 1) embedding rows.
        cat_rows: 7,
        tokens: vec![Token::Num(0), Token::Cat(0), Token::Num(1), Token::Cat(1)],
    })
}

/// Initial parameters plus noise everywhere (so layer-norm gains and every
/// bias take part too).
fn params(net: &Net, seed: u64) -> Vec<f32> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut p = net.layout.init(&net.shape, &mut rng);
    for v in &mut p {
        let n: f64 = StandardNormal.sample(&mut rng);
        *v += (0.2 * n) as f32;
    }
    p
}

/// `rows` rows of inputs and labels; ids within each feature's rows
/// (unknown rows included).
fn rows(rows: usize, seed: u64) -> (Vec<f32>, Vec<u32>, Vec<bool>) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut num = Vec::new();
    let mut cat = Vec::new();
    let mut y = Vec::new();
    for _ in 0..rows {
        for _ in 0..2 {
            let n: f64 = StandardNormal.sample(&mut rng);
            num.push(n as f32);
        }
        cat.push(rng.random_range(0..4u32));
        cat.push(4 + rng.random_range(0..3u32));
        y.push(rng.random::<bool>());
    }
    (num, cat, y)
}

/// The engine's mean log-loss and its gradient (training mode with
/// `dropout` and masks from `seed`, or eval mode with `None`).
fn engine_loss(
    net: &Net,
    p: &[f32],
    data: &(Vec<f32>, Vec<u32>, Vec<bool>),
    dropout: Option<(u64, f32)>,
    grads: Option<&mut Vec<f32>>,
) -> (f64, Vec<f32>) {
    let (num, cat, y) = data;
    let n = y.len();
    let mut ws = net.workspace(n);
    ws.num[..num.len()].copy_from_slice(num);
    ws.cat[..cat.len()].copy_from_slice(cat);
    let mut rng = dropout.map(|(seed, _)| SmallRng::seed_from_u64(seed));
    let train = rng
        .as_mut()
        .zip(dropout)
        .map(|(rng, (_, rate))| (rng, rate));
    net.forward(p, &mut ws, n, train);
    let mut loss = 0.0f64;
    for (i, &t) in y.iter().enumerate() {
        let z = f64::from(ws.logits[i]);
        let t = if t { 1.0 } else { 0.0 };
        loss += z.max(0.0) - z * t + (-z.abs()).exp().ln_1p();
        ws.dlogits[i] = ((1.0 / (1.0 + (-z).exp()) - t) / n as f64) as f32;
    }
    if let Some(g) = grads {
        g.clear();
        g.resize(net.layout.len, 0.0);
        net.backward(p, &mut ws, n, g);
    }
    (loss / n as f64, ws.logits[..n].to_vec())
}

/// Every tensor of the layout, with a name.
fn spans(net: &Net) -> Vec<(String, Span)> {
    let l = &net.layout;
    let mut v = vec![
        ("num_w".to_string(), l.num_w),
        ("num_b".into(), l.num_b),
        ("cat".into(), l.cat),
        ("cls".into(), l.cls),
    ];
    for (i, b) in l.blocks.iter().enumerate() {
        for (name, s) in [
            ("ln1_g", b.ln1_g),
            ("ln1_b", b.ln1_b),
            ("wq", b.wq),
            ("bq", b.bq),
            ("wk", b.wk),
            ("bk", b.bk),
            ("wv", b.wv),
            ("bv", b.bv),
            ("wo", b.wo),
            ("bo", b.bo),
            ("ln2_g", b.ln2_g),
            ("ln2_b", b.ln2_b),
            ("w1", b.w1),
            ("b1", b.b1),
            ("w2", b.w2),
            ("b2", b.b2),
        ] {
            v.push((format!("block {i} {name}"), s));
        }
    }
    v.extend([
        ("final_g".to_string(), l.final_g),
        ("final_b".into(), l.final_b),
        ("head_w".into(), l.head_w),
        ("head_b".into(), l.head_b),
    ]);
    v
}

/// The network written with candle tensor operations (as the trainer was
/// before the engine), eval mode: the logits, and the log-loss gradient of
/// every span by autodiff.
fn candle_loss(
    net: &Net,
    p: &[f32],
    data: &(Vec<f32>, Vec<u32>, Vec<bool>),
) -> candle_core::Result<(Vec<f32>, Vec<f32>)> {
    let dev = Device::Cpu;
    let s = &net.shape;
    let (d, t) = (s.d, s.t());
    let (num, cat, y) = data;
    let n = y.len();
    let vars: Vec<(Span, Var)> = spans(net)
        .into_iter()
        .map(|(_, sp)| Ok((sp, Var::from_slice(sp.of(p), sp.len, &dev)?)))
        .collect::<candle_core::Result<_>>()?;
    let get = |sp: Span, shape: &[usize]| -> candle_core::Result<Tensor> {
        let v = vars.iter().find(|(s, _)| *s == sp).map(|(_, v)| v);
        match v {
            Some(v) => v.as_tensor().reshape(shape),
            None => Err(candle_core::Error::Msg("span".into())),
        }
    };
    let ln = |x: &Tensor, g: Span, b: Span| -> candle_core::Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + 1e-5)?.sqrt()?)?;
        normed
            .broadcast_mul(&get(g, &[d])?)?
            .broadcast_add(&get(b, &[d])?)
    };
    let linear = |x: &Tensor, w: Span, b: Span, out: usize| -> candle_core::Result<Tensor> {
        let (bsz, rows, inp) = x.dims3()?;
        x.reshape((bsz * rows, inp))?
            .matmul(&get(w, &[out, inp])?.t()?)?
            .broadcast_add(&get(b, &[out])?)?
            .reshape((bsz, rows, out))
    };
    let l = &net.layout;
    let num_t = Tensor::from_slice(num, (n, 2), &dev)?;
    let cat_t = Tensor::from_slice(cat, n * 2, &dev)?;
    let numeric = num_t
        .unsqueeze(2)?
        .broadcast_mul(&get(l.num_w, &[2, d])?.unsqueeze(0)?)?
        .broadcast_add(&get(l.num_b, &[2, d])?.unsqueeze(0)?)?;
    let embedded = get(l.cat, &[s.cat_rows, d])?
        .index_select(&cat_t, 0)?
        .reshape((n, 2, d))?;
    let cls = get(l.cls, &[1, 1, d])?.broadcast_as((n, 1, d))?;
    // Features in order: num 0, cat 0, num 1, cat 1.
    let mut x = Tensor::cat(
        &[
            cls,
            numeric.narrow(1, 0, 1)?,
            embedded.narrow(1, 0, 1)?,
            numeric.narrow(1, 1, 1)?,
            embedded.narrow(1, 1, 1)?,
        ],
        1,
    )?;
    let dk = d / s.heads;
    for (i, b) in l.blocks.iter().enumerate() {
        let h = ln(&x, b.ln1_g, b.ln1_b)?;
        let nq = if i + 1 == l.blocks.len() { 1 } else { t };
        x = x.narrow(1, 0, nq)?;
        let split = |z: Tensor, rows: usize| {
            z.reshape((n, rows, s.heads, dk))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(linear(&h.narrow(1, 0, nq)?, b.wq, b.bq, d)?, nq)?;
        let k = split(linear(&h, b.wk, b.bk, d)?, t)?;
        let v = split(linear(&h, b.wv, b.bv, d)?, t)?;
        let scores = (q.matmul(&k.t()?)? / (dk as f64).sqrt())?;
        let max = scores.max_keepdim(D::Minus1)?.detach();
        let e = scores.broadcast_sub(&max)?.exp()?;
        let probs = e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?;
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((n, nq, d))?;
        x = (x + linear(&ctx, b.wo, b.bo, d)?)?;
        let h = ln(&x, b.ln2_g, b.ln2_b)?;
        let hidden = linear(&h, b.w1, b.b1, s.ffn)?.relu()?;
        x = (&x + linear(&hidden, b.w2, b.b2, d)?)?;
    }
    let z = ln(&x.narrow(1, 0, 1)?.squeeze(1)?, l.final_g, l.final_b)?;
    let logits = z
        .matmul(&get(l.head_w, &[1, d])?.t()?)?
        .broadcast_add(&get(l.head_b, &[1])?)?
        .squeeze(1)?;
    let target: Vec<f32> = y.iter().map(|&t| if t { 1.0 } else { 0.0 }).collect();
    let target = Tensor::from_vec(target, n, &dev)?;
    let softplus = (logits.relu()? + (logits.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    let loss = (softplus - logits.mul(&target)?)?.mean_all()?;
    let grads = loss.backward()?;
    let mut flat = vec![0.0f32; net.layout.len];
    for (sp, v) in &vars {
        if let Some(g) = grads.get(v) {
            sp.of_mut(&mut flat)
                .copy_from_slice(&g.flatten_all()?.to_vec1::<f32>()?);
        }
    }
    Ok((logits.to_vec1::<f32>()?, flat))
}

#[test]
fn logits_and_gradients_match_candle_autodiff() {
    for (blocks, heads, dk) in [(1, 2, 4), (2, 2, 4), (3, 2, 4), (2, 2, 8), (2, 1, 16)] {
        let net = tiny(blocks, heads, dk);
        let p = params(&net, 3 + blocks as u64);
        let data = rows(37, 11);
        let (want_logits, want) = candle_loss(&net, &p, &data).unwrap();
        // Eval mode, and training mode with dropout 0 (the same network).
        for drop in [None, Some((1, 0.0))] {
            let mut grads = Vec::new();
            let (_, logits) = engine_loss(&net, &p, &data, drop, Some(&mut grads));
            let worst = logits
                .iter()
                .zip(&want_logits)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(worst < 1e-5, "{blocks} blocks: logits differ by {worst}");
            for (name, sp) in spans(&net) {
                let (got, exp) = (sp.of(&grads), sp.of(&want));
                let scale = exp.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let diff = got
                    .iter()
                    .zip(exp)
                    .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
                assert!(
                diff <= 1e-4 * scale + 1e-7,
                "{blocks} blocks, dk {dk}, {name}: gradient differs by {diff} (largest {scale})"
            );
            }
            // Not vacuous: the gradients are not all zero.
            assert!(grads.iter().any(|g| g.abs() > 1e-3));
        }
    }
}

#[test]
fn training_mode_gradients_match_finite_differences() {
    // Dropout 0.2 with masks from a fixed seed: the loss is a fixed function
    // of the parameters, differentiated along the gradient and along a
    // random direction, per tensor, by central differences.
    for (heads, dk) in [(2, 4), (2, 8)] {
        let net = tiny(2, heads, dk);
        let p = params(&net, 5);
        let data = rows(23, 12);
        let drop = Some((97u64, 0.2f32));
        let mut grads = Vec::new();
        engine_loss(&net, &p, &data, drop, Some(&mut grads));
        let mut rng = SmallRng::seed_from_u64(1);
        for (name, sp) in spans(&net) {
            let g = sp.of(&grads);
            let norm = g.iter().map(|v| v * v).sum::<f32>().sqrt();
            if sp.len == 0 || norm < 1e-6 {
                // `cat` rows never drawn stay 0; a tensor without gradient is
                // checked by the candle oracle.
                continue;
            }
            let random: Vec<f32> = (0..sp.len)
                .map(|_| StandardNormal.sample(&mut rng))
                .map(|v: f64| v as f32)
                .collect();
            let rnorm = random.iter().map(|v| v * v).sum::<f32>().sqrt();
            for dir in [
                g.iter().map(|v| v / norm).collect::<Vec<f32>>(),
                random.iter().map(|v| v / rnorm).collect(),
            ] {
                let shifted = |step: f32| {
                    let mut q = p.clone();
                    for (v, u) in sp.of_mut(&mut q).iter_mut().zip(&dir) {
                        *v += step * u;
                    }
                    engine_loss(&net, &q, &data, drop, None).0
                };
                let analytic: f64 = g.iter().zip(&dir).map(|(a, b)| f64::from(a * b)).sum();
                // A ReLU unit may switch inside one step: the closest of three
                // step sizes must agree.
                let fds: Vec<f64> = [1e-3f32, 5e-4, 2.5e-4]
                    .iter()
                    .map(|&eps| (shifted(eps) - shifted(-eps)) / (2.0 * f64::from(eps)))
                    .collect();
                let err = fds
                    .iter()
                    .map(|fd| (fd - analytic).abs())
                    .fold(f64::INFINITY, f64::min);
                assert!(
                    err <= 0.02 * f64::from(norm) + 1e-4,
                    "dk {dk}, {name}: finite differences {fds:?}, gradient {analytic} (|g| {norm})"
                );
            }
        }
    }
}
