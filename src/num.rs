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
        f.write_str(&text(self.0, 17, &|s| parse_f64(s) == Some(self.0), false))
    }
}

impl fmt::Display for F32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        f.write_str(&text(f64::from(v), 9, &|s| same_f32(s, v), false))
    }
}

fn same_f32(s: &str, v: f32) -> bool {
    parse_f64(s).map(|x| x as f32) == Some(v)
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
    text(v, 17, &|s| parse_f64(s) == Some(v), true)
}

/// The shortest `digits × 10^exp` (at most `max` digits) that `same`
/// accepts, written out; `exponent` selects `d.ddde±x` form. (`same` is a
/// `dyn`: one copy of this function in the bundle, not one per caller.)
fn text(v: f64, max: u32, same: &dyn Fn(&str) -> bool, exponent: bool) -> String {
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
                match parse_f64(&t) {
                    Some(x) if x.abs() < a => d += 1,
                    Some(_) => d = d.saturating_sub(1),
                    None => break,
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

    /// Oracle: core's parser, on the same text.
    fn check(s: &str) {
        let want = s.parse::<f64>().ok();
        let got = parse_f64(s);
        match (got, want) {
            (Some(g), Some(w)) if g.is_nan() && w.is_nan() => {}
            (Some(g), Some(w)) => assert_eq!(g.to_bits(), w.to_bits(), "{s}: {g:e} vs {w:e}"),
            (g, w) => assert_eq!(g.is_some(), w.is_some(), "{s}: {g:?} vs {w:?}"),
        }
    }

    #[test]
    fn parsing_matches_core_on_hard_and_random_numbers() {
        for s in [
            "0", "-0", "+0", "0.0", ".5", "5.", "-.5e-3", "1e5", "1E+5", "1e-5", "12345678901234567890",
            "9007199254740993", "9007199254740992", "9007199254740994", "9007199254740995",
            "2.2250738585072011e-308", "2.2250738585072014e-308", "2.2250738585072012e-308",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
            "4.9e-324", "5e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
            "2.47032822920623272088e-324", "1e-400", "1e400", "-1e400", "inf", "-Infinity",
            "NaN", "nan", "infinit", "", "-", ".", "e5", "1e", "1e+", "1.2.3", "1_0", " 1",
            "0.1", "0.2", "0.3", "123.456", "1.0000000000000002", "0.30000000000000004",
            "100000000000000000000000", "1e23", "8.98846567431158e307",
            "0.000000000000000000000000000000000000000000001",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
            "4.4501477170144022721148195934182639518696390927032912960468522194496444440421538910330590478162701758282983178260792422137401728773891892910553144148156412434867599762821265346585071045737627442980259622449029037796981144446145705102663115100318287949527959668236039986479250965780342141637013812613333119898765515451440315261253813266652951306000184917766328660755595837392240989947807556594098101021612198814605258742579179000071675999344145086087205681577915435923018910334964869420614052182892431445797605163650903606514140377217442262561590244668525767372446430075513332450079650686719491377688478005309963967709758965844137894433796621993967316936280457084866613206797017728916080020698679408551343728867675409720757232455434770912461317493580281734466552734375e-308",
        ] {
            check(s);
        }
        let mut r = Lcg(17);
        for _ in 0..100_000 {
            // Random decimals: 1 to 40 digits, exponents across the range.
            let n = (r.next() % 40) as usize + 1;
            let digits: String = (0..n)
                .map(|_| char::from(b'0' + (r.next() % 10) as u8))
                .collect();
            let e = (r.next() % 700) as i64 - 350;
            check(&format!("{digits}e{e}"));
            let k = (r.next() as usize) % (n + 1);
            check(&format!("-{}.{}e{}", &digits[..k], &digits[k..], e / 10));
            // Every double's shortest text, and its 17- and 25-digit forms.
            let v = f64::from_bits(r.next() << 11 | r.next() & 0x7ff);
            if v.is_finite() {
                check(&format!("{v:e}"));
                check(&format!("{v:.16e}"));
                check(&format!("{v:.24e}"));
            }
        }
    }

    #[test]
    fn parsing_rounds_halfway_cases_to_even() {
        // Exact midpoints between neighbouring doubles, written out in full
        // (every binary fraction is a finite decimal): ties go to even.
        let mut r = Lcg(23);
        for _ in 0..2000 {
            let v = f64::from_bits((r.next() << 11 | r.next() & 0x7ff) & 0x7fef_ffff_ffff_ffff);
            let w = f64::from_bits(v.to_bits() + 1);
            // (v + w) / 2 exactly = (2m + 1) × 2^(e - 1) for v = m × 2^e.
            let (m, e) = decompose(v);
            let mid = exact_decimal(2 * m + 1, e - 1);
            let got = parse_f64(&mid).unwrap();
            let even = if m % 2 == 0 { v } else { w };
            assert_eq!(got.to_bits(), even.to_bits(), "{mid}");
            check(&mid);
        }
    }

    fn decompose(v: f64) -> (u128, i32) {
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = u128::from(bits & ((1 << 52) - 1));
        if exp == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, exp - 1075)
        }
    }

    /// m × 2^e as an exact decimal string.
    fn exact_decimal(m: u128, e: i32) -> String {
        let mut d = Big(vec![
            m as u32,
            (m >> 32) as u32,
            (m >> 64) as u32,
            (m >> 96) as u32,
        ]);
        let mut scale = 0; // decimal digits after the point
        if e >= 0 {
            d = d.shl(e as u32);
        } else {
            // m / 2^k = m × 5^k / 10^k
            for _ in 0..-e {
                d.mul_add(5, 0);
            }
            scale = -e;
        }
        // Big to decimal by repeated division by 10.
        let mut digits = Vec::new();
        while !d.is_zero() {
            let mut rem = 0u64;
            for limb in d.0.iter_mut().rev() {
                let cur = rem << 32 | u64::from(*limb);
                *limb = (cur / 10) as u32;
                rem = cur % 10;
            }
            digits.push(char::from(b'0' + rem as u8));
        }
        let s: String = digits.iter().rev().collect();
        format!("{s}e-{scale}")
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

/// Reads a decimal number as Rust's `str::parse::<f64>` does — the same
/// grammar (`[+-]`, digits with an optional point, an optional exponent,
/// `inf`, `infinity`, `nan` in any case) and the same correctly rounded
/// result — without core's parser, whose 128-bit power-of-five table is
/// ~10 KB of the wasm bundle. Most numbers take the exact fast path (at
/// most 19 significant digits, a power of ten up to 10^22: one correctly
/// rounded multiplication or division); the rest are rounded exactly with
/// big integers. Tests compare it with core's parser as the oracle.
pub fn parse_f64(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (neg, b) = match b.first() {
        Some(b'-') => (true, b.get(1..)?),
        Some(b'+') => (false, b.get(1..)?),
        _ => (false, b),
    };
    let signed = |v: f64| if neg { -v } else { v };
    for (word, v) in [
        (&b"infinity"[..], f64::INFINITY),
        (b"inf", f64::INFINITY),
        (b"nan", f64::NAN),
    ] {
        if b.eq_ignore_ascii_case(word) {
            return Some(signed(v));
        }
    }
    // Significant digits (leading zeros dropped), at most MAX_DIGITS kept;
    // `exp` is the power of ten of the last kept digit.
    const MAX_DIGITS: usize = 800;
    // On the stack: this runs for every numeric CSV cell.
    let mut buf = [0u8; MAX_DIGITS];
    let mut n = 0usize;
    let mut sticky = false; // a nonzero digit beyond MAX_DIGITS
    let mut exp: i64 = 0;
    let mut seen = false;
    let mut i = 0;
    let mut point = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                seen = true;
                let d = c - b'0';
                if n == 0 && d == 0 {
                    if point {
                        exp -= 1;
                    }
                } else if let Some(slot) = buf.get_mut(n) {
                    *slot = d;
                    n += 1;
                    if point {
                        exp -= 1;
                    }
                } else {
                    sticky |= d != 0;
                    if !point {
                        exp += 1;
                    }
                }
            }
            b'.' if !point => point = true,
            _ => break,
        }
        i += 1;
    }
    if !seen {
        return None;
    }
    if let Some(&(b'e' | b'E')) = b.get(i) {
        i += 1;
        let eneg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut e: i64 = 0;
        let start = i;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            e = (e * 10 + i64::from(c - b'0')).min(1 << 40);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if i != b.len() {
        return None;
    }
    let digits = buf.get(..n).unwrap_or_default();
    if digits.is_empty() {
        return Some(signed(0.0));
    }
    let n = n as i64;
    // Far outside the range of f64 (the value is below 10^(exp + n)).
    if exp + n > 310 {
        return Some(signed(f64::INFINITY));
    }
    if exp + n < -330 {
        return Some(signed(0.0));
    }
    // Fast path: an integer mantissa below 2^53 times an exact power of ten.
    if n <= 19 && !sticky {
        let w = digits.iter().fold(0u64, |w, &d| w * 10 + u64::from(d));
        if w <= 1 << 53 && (-22..=22).contains(&exp) {
            let p = pow10(exp.unsigned_abs() as i32);
            return Some(signed(if exp >= 0 { w as f64 * p } else { w as f64 / p }));
        }
    }
    Some(signed(slow(digits, exp as i32, sticky)))
}

/// Little-endian base-2^32 natural numbers, just what [`slow`] needs.
#[derive(Clone)]
struct Big(Vec<u32>);

impl Big {
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }
    fn bits(&self) -> u32 {
        match self.0.iter().rposition(|&l| l != 0) {
            Some(i) => i as u32 * 32 + (32 - self.0[i].leading_zeros()),
            None => 0,
        }
    }
    fn bit(&self, k: u32) -> bool {
        self.0
            .get((k / 32) as usize)
            .is_some_and(|l| l >> (k % 32) & 1 == 1)
    }
    fn shl(&self, k: u32) -> Big {
        let (limbs, bits) = ((k / 32) as usize, k % 32);
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for &l in &self.0 {
            out.push(if bits == 0 { l } else { l << bits | carry });
            carry = if bits == 0 { 0 } else { l >> (32 - bits) };
        }
        out.push(carry);
        Big(out)
    }
    /// `self >= other`
    fn ge(&self, other: &Big) -> bool {
        let n = self.0.len().max(other.0.len());
        for i in (0..n).rev() {
            let (a, b) = (
                self.0.get(i).copied().unwrap_or(0),
                other.0.get(i).copied().unwrap_or(0),
            );
            if a != b {
                return a > b;
            }
        }
        true
    }
    /// `self -= other` (`self >= other`).
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let v = i64::from(self.0[i]) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            self.0[i] = v as u32;
            borrow = i64::from(v < 0);
        }
    }
    fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }
}

/// `digits × 10^exp` (plus a nonzero tail when `sticky`) correctly rounded.
fn slow(digits: &[u8], exp: i32, sticky: bool) -> f64 {
    let mut d = Big(vec![0]);
    for &x in digits {
        d.mul_add(10, u32::from(x));
    }
    if exp >= 0 {
        for _ in 0..exp {
            d.mul_add(10, 0);
        }
        // value = d: its top bits with everything below as sticky.
        let len = d.bits();
        let take = len.min(64);
        let mut q: u64 = 0;
        for k in (len - take..len).rev() {
            q = q << 1 | u64::from(d.bit(k));
        }
        let rest = (0..len - take).any(|k| d.bit(k));
        round(u128::from(q), (len - take) as i32, rest || sticky)
    } else {
        let mut den = Big(vec![1]);
        for _ in 0..-exp {
            den.mul_add(10, 0);
        }
        // q = floor(d·2^-t / den), 66 or 67 bits: t < 0 shifts d up,
        // t > 0 shifts den up.
        let t = i64::from(d.bits()) - i64::from(den.bits()) - 66;
        let (mut rem, den) = if t < 0 {
            (d.shl(t.unsigned_abs() as u32), den)
        } else {
            (d, den.shl(t as u32))
        };
        let qbits = rem.bits().saturating_sub(den.bits()) + 1;
        let mut q: u128 = 0;
        for k in (0..qbits.min(127)).rev() {
            let part = den.shl(k);
            if rem.ge(&part) {
                rem.sub(&part);
                q |= 1 << k;
            }
        }
        round(q, t as i32, !rem.is_zero() || sticky)
    }
}

/// `q × 2^e2` (with `sticky`: plus a little more) rounded to the nearest
/// f64, ties to even, subnormals and overflow included.
fn round(q: u128, e2: i32, sticky: bool) -> f64 {
    if q == 0 {
        return 0.0;
    }
    let len = 128 - q.leading_zeros() as i32;
    let lead = len - 1 + e2; // power of two of the leading bit
    if lead > 1023 {
        return f64::INFINITY;
    }
    // Bits kept: 53, fewer below the normal range.
    let keep = if lead >= -1022 {
        53
    } else {
        53 - (-1022 - lead)
    };
    if keep <= 0 {
        // Below half the smallest subnormal (or exactly half: ties to 0).
        let half = keep == 0 && (q.count_ones() > 1 || sticky);
        return if half { f64::from_bits(1) } else { 0.0 };
    }
    let drop = len - keep;
    let (mut m, mut e) = if drop > 0 {
        let m = q >> drop;
        let rest = q & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        let up = rest > half || (rest == half && (sticky || m & 1 == 1));
        (m + u128::from(up), e2 + drop)
    } else {
        (q << -drop, e2 + drop)
    };
    if m >> keep != 0 {
        m >>= 1;
        e += 1;
    }
    // The leading bit of the rounded value (a carry may have moved it).
    if (128 - m.leading_zeros()) as i32 - 1 + e > 1023 {
        return f64::INFINITY;
    }
    // m < 2^53 times a power of two, exact in one or two steps.
    let m = m as f64;
    let (a, b) = (e / 2, e - e / 2);
    m * pow2(a) * pow2(b)
}

/// 2^k for |k| <= 1023, exact.
fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023).clamp(1, 2046) as u64) << 52)
}
