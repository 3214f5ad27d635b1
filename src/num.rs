//! Numbers as text, and the one sort the runtime uses, written for size.
//!
//! core's float formatting (Grisu with a Dragon fallback, bignums and their
//! power tables) costs ~20 KB of the wasm bundle; every float the runtime
//! prints (explanation values, warnings, error messages) goes through
//! [`F64`] / [`F32`] instead, and nothing in the runtime may use `{}` on a
//! float. The text is the shortest decimal that parses back to the same
//! number, as Rust's own `{}` prints it, for every number written with up
//! to 15 significant digits (every value a CSV cell gives); for other
//! numbers it still parses back to the same value (tests check both against
//! Rust's formatting as the oracle).
//!
//! Sorting: `slice::sort_by` is monomorphised per closure (~7 KB of wasm
//! each); [`order_desc`] is the runtime's only sort, a plain merge sort.

use std::fmt;

/// An `f64` that displays as the shortest decimal that parses back to it.
#[derive(Clone, Copy, Debug)]
pub struct F64(pub f64);

/// An `f32` that displays as the shortest decimal that parses back to it
/// as an `f32`.
#[derive(Clone, Copy, Debug)]
pub struct F32(pub f32);

impl fmt::Display for F64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&text(
            self.0,
            17,
            |s| s.parse::<f64>().ok() == Some(self.0),
            false,
        ))
    }
}

impl fmt::Display for F32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        f.write_str(&text(f64::from(v), 9, |s| same_f32(s, v), false))
    }
}

fn same_f32(s: &str, v: f32) -> bool {
    s.parse::<f64>().ok().map(|x| x as f32) == Some(v)
}

/// `v` as JavaScript's `String(v)` writes it: `NaN`, `Infinity`, plain
/// decimals from 1e-7 to 1e21, exponent form (`1e+300`) outside.
pub fn js(v: f64) -> String {
    let a = v.abs();
    if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if a == 0.0 {
        "0".into()
    } else if !(1e-7..1e21).contains(&a) {
        js_exponent(v)
    } else {
        F64(v).to_string()
    }
}

/// `v` in exponent form as JavaScript writes it (`1.5e+300`, `2e-7`).
pub fn js_exponent(v: f64) -> String {
    text(v, 17, |s| s.parse::<f64>().ok() == Some(v), true)
}

/// The shortest `digits × 10^exp` (at most `max` digits) that `same`
/// accepts, written out; `exponent` selects `d.ddde±x` form.
fn text(v: f64, max: u32, same: impl Fn(&str) -> bool, exponent: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v.is_infinite() {
        return format!("{sign}inf");
    }
    let a = v.abs();
    if a == 0.0 {
        return format!("{sign}0");
    }
    // Decimal exponent of the leading digit: 10^e10 <= a < 10^(e10+1).
    let mut e10 = 0i32;
    let mut x = a;
    while x >= 10.0 {
        x /= 10.0;
        e10 += 1;
    }
    while x < 1.0 {
        x *= 10.0;
        e10 -= 1;
    }
    let mut best = String::new();
    for p in 1..=max {
        let (digits, exp) = round_digits(a, e10, p);
        best = render(sign, digits, exp, exponent);
        if same(&best) {
            return best;
        }
        if p == max {
            // Far from 1 the scaling is off by a few ulps: walk the last
            // digit towards `a`, with the parser as the judge.
            let mut d = digits;
            for _ in 0..64 {
                let t = render(sign, d, exp, exponent);
                if same(&t) {
                    return t;
                }
                match t.parse::<f64>() {
                    Ok(x) if x.abs() < a => d += 1,
                    Ok(_) => d = d.saturating_sub(1),
                    Err(_) => break,
                }
            }
        }
    }
    best
}

/// `a` rounded to `p` significant digits: (integer digits, decimal exponent).
fn round_digits(a: f64, e10: i32, p: u32) -> (u64, i32) {
    let shift = p as i32 - 1 - e10; // a × 10^shift has p integer digits
    let scaled = scale(a, shift);
    let mut m = scaled.round();
    let mut exp = -shift;
    // Rounding up may carry into one more digit (9.96 → 10.0 at p = 2).
    if m >= pow10(p as i32) {
        m = (m / 10.0).round();
        exp += 1;
    }
    (m as u64, exp)
}

/// 10^n for 0 <= n <= 22, exact.
fn pow10(n: i32) -> f64 {
    const EXACT: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    EXACT[n.clamp(0, 22) as usize]
}

/// `a × 10^k` in steps of exact powers (no overflow on the way for the
/// results `round_digits` needs, which are below 10^17).
fn scale(mut a: f64, k: i32) -> f64 {
    let mut k = k;
    while k > 22 {
        a *= 1e22;
        k -= 22;
    }
    while k < -22 {
        a /= 1e22;
        k += 22;
    }
    if k >= 0 {
        a * pow10(k)
    } else {
        a / pow10(-k)
    }
}

/// `digits × 10^exp` as text: plain decimal (Rust's `{}`), or exponent form.
fn render(sign: &str, mut digits: u64, mut exp: i32, exponent: bool) -> String {
    while digits >= 10 && digits % 10 == 0 {
        digits /= 10;
        exp += 1;
    }
    let d = digits.to_string();
    let n = d.len() as i32;
    if exponent {
        let e = exp + n - 1;
        let (head, tail) = (
            d.get(..1).unwrap_or_default(),
            d.get(1..).unwrap_or_default(),
        );
        let dot = if tail.is_empty() { "" } else { "." };
        let esign = if e >= 0 { "+" } else { "" };
        return format!("{sign}{head}{dot}{tail}e{esign}{e}");
    }
    if exp >= 0 {
        format!("{sign}{d}{}", "0".repeat(exp as usize))
    } else if -exp < n {
        let k = (n + exp) as usize;
        let (int, frac) = (
            d.get(..k).unwrap_or_default(),
            d.get(k..).unwrap_or_default(),
        );
        format!("{sign}{int}.{frac}")
    } else {
        format!("{sign}0.{}{d}", "0".repeat((-exp - n) as usize))
    }
}

/// Indices of `keys` ordered by key, largest first (`total_cmp`); equal
/// keys keep index order. A bottom-up merge sort: O(n log n), no recursion.
pub fn order_desc(keys: &[f64]) -> Vec<usize> {
    let n = keys.len();
    let mut a: Vec<usize> = (0..n).collect();
    let mut b = vec![0usize; n];
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j) = (lo, mid);
            for slot in &mut b[lo..hi] {
                // Take from the left run unless the right key is strictly larger.
                let take_left = j >= hi || (i < mid && keys[a[j]].total_cmp(&keys[a[i]]).is_le());
                if take_left {
                    *slot = a[i];
                    i += 1;
                } else {
                    *slot = a[j];
                    j += 1;
                }
            }
            lo = hi;
        }
        std::mem::swap(&mut a, &mut b);
        width *= 2;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (the runtime has no `rand`).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 11
        }
    }

    #[test]
    fn decimals_print_as_rust_prints_them() {
        // Oracle: Rust's own `{}` on the parsed value.
        let mut r = Lcg(7);
        for _ in 0..200_000 {
            let digits = (r.next() % 15) as u32 + 1;
            let m = r.next() % 10u64.pow(digits);
            let e = (r.next() % 40) as i32 - 25;
            let s = format!("{m}e{e}");
            let v: f64 = s.parse().unwrap();
            assert_eq!(F64(v).to_string(), format!("{v}"), "{s}");
            assert_eq!(F64(-v).to_string(), format!("{}", -v), "-{s}");
            let v32: f32 = s.parse().unwrap();
            if digits <= 7 {
                assert_eq!(F32(v32).to_string(), format!("{v32}"), "{s} as f32");
            }
        }
    }

    #[test]
    fn any_number_parses_back_to_itself() {
        let mut r = Lcg(11);
        for _ in 0..200_000 {
            let v = f64::from_bits(r.next() << 11 | r.next() & 0x7ff);
            if !v.is_finite() {
                continue;
            }
            assert_eq!(F64(v).to_string().parse::<f64>().unwrap(), v, "{v:e}");
            let w = f32::from_bits(r.next() as u32);
            if w.is_finite() {
                assert_eq!(F32(w).to_string().parse::<f32>().unwrap(), w, "{w:e}");
            }
        }
    }

    #[test]
    fn specials_and_exponent_form() {
        assert_eq!(F64(f64::NAN).to_string(), "NaN");
        assert_eq!(F64(f64::INFINITY).to_string(), "inf");
        assert_eq!(F64(f64::NEG_INFINITY).to_string(), "-inf");
        assert_eq!(F64(0.0).to_string(), "0");
        assert_eq!(F64(-0.0).to_string(), "-0");
        assert_eq!(F32(0.1).to_string(), "0.1");
        assert_eq!(F64(1e300).to_string(), format!("{}", 1e300));
        assert_eq!(js_exponent(1e300), "1e+300");
        assert_eq!(js_exponent(-1.5e22), "-1.5e+22");
        assert_eq!(js_exponent(2.5e-7), "2.5e-7");
        assert_eq!(js(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(js(1e40), "1e+40");
        assert_eq!(js(1.5e-8), "1.5e-8");
        assert_eq!(js(-0.0), "0");
    }

    #[test]
    fn order_desc_matches_a_stable_sort() {
        // Oracle: the standard library's stable sort on the same order.
        let mut r = Lcg(3);
        for n in [0usize, 1, 2, 3, 7, 64, 65, 1000] {
            let keys: Vec<f64> = (0..n)
                .map(|_| match r.next() % 5 {
                    0 => f64::NAN,
                    1 => 1.0, // ties
                    _ => (r.next() % 1000) as f64 - 500.0,
                })
                .collect();
            let mut want: Vec<usize> = (0..n).collect();
            want.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]));
            assert_eq!(order_desc(&keys), want, "n = {n}");
        }
    }
}
