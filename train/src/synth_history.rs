//! Synthetic customers with monthly repayment histories (`ferrisk synth
//! --histories M`), for the sequence models and their tests on machines
//! without a real table of histories.
//!
//! **Frozen.** Models are tuned and tests are written against this
//! generator's output, so its behaviour for a given `(rows, months, extra,
//! seed)` must not change. [`VERSION`] names it; a change to what it writes
//! is a new version (a new function beside this one), never an edit here.
//! `frozen_output_digest` in the tests guards that.
//!
//! What it models, per customer (the structure real account histories have):
//! - static features: age, income, a credit limit, employment, housing, the
//!   number of other credits, and `extra` noise columns (for size tests);
//! - a latent monthly financial stress, an AR(1) process around a level that
//!   the static features set;
//! - a repayment status per month: months in arrears, a Markov chain whose
//!   entry, roll-forward and cure probabilities follow the stress, so
//!   delinquency persists;
//! - a balance that follows from last month's balance, this month's spending,
//!   interest on revolved balances and the payment; a payment that follows
//!   last month's bill (in full, a part, or little when in arrears);
//! - shorter histories: 15 % of the accounts were opened during the window, so
//!   their older months are empty cells;
//! - a default label whose log-odds depend on each month's arrears and
//!   utilisation with a weight that halves about every 1.6 months back
//!   ([`month_weight`]): recent months matter far more than old ones.
//!
//! Column names: `status_mA`, `balance_mA`, `paid_mA`, where `A` is the
//! month's age (1 = last month, `months` = the oldest). The CSV lists them
//! oldest first per channel. [`sequence_args`] prints the matching
//! `--sequence` arguments.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, Normal};

use crate::synth::pick;
pub use crate::synth::{LABEL, POSITIVE};

/// The generator's version; printed by `ferrisk synth --histories`.
pub const VERSION: u32 = 1;
/// The history channels, in column order.
pub const CHANNELS: [&str; 3] = ["status", "balance", "paid"];
/// At most this many months of history.
pub const MAX_MONTHS: usize = 36;
/// At most this many extra (noise) static columns.
pub const MAX_EXTRA: usize = 64;

const EMPLOYMENT: [&str; 4] = ["permanent", "temporary", "self-employed", "unemployed"];
const HOUSING: [&str; 3] = ["own", "rent", "free"];
/// How fast a month's weight in the risk function decays with its age.
const DECAY: f64 = 0.65;

/// The weight of the month `age` months back (1 = last month) in the
/// default's log-odds, relative to last month's: `0.65^(age-1)`.
pub fn month_weight(age: usize) -> f64 {
    DECAY.powi(age.saturating_sub(1) as i32)
}

/// The column of `channel` for the month `age` months back.
pub fn column(channel: &str, age: usize) -> String {
    format!("{channel}_m{age}")
}

/// `--sequence` arguments for a table of `months` months: one per channel,
/// columns oldest first.
pub fn sequence_args(months: usize) -> Vec<String> {
    CHANNELS
        .iter()
        .map(|c| {
            let cols: Vec<String> = (1..=months).rev().map(|a| column(c, a)).collect();
            format!("{c}={}", cols.join(","))
        })
        .collect()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// One month of one account.
#[derive(Clone, Copy)]
struct Month {
    status: u32,
    balance: f64,
    paid: f64,
}

/// Writes `rows` customers with `months` months of history (1..=36) and
/// `extra` noise columns (0..=64) as CSV text, header included.
/// `months` and `extra` are clamped into their ranges.
pub fn generate(rows: usize, months: usize, extra: usize, seed: u64) -> String {
    let months = months.clamp(1, MAX_MONTHS);
    let extra = extra.min(MAX_EXTRA);
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x6869_7374_6f72_7931);
    let income_d = LogNormal::<f64>::new(10.3, 0.5).ok();
    let normal = Normal::<f64>::new(0.0, 1.0).ok();
    let gauss = move |rng: &mut SmallRng| normal.map_or(0.0, |d| d.sample(rng));

    let mut header: Vec<String> = [
        "age",
        "income",
        "credit_limit",
        "employment",
        "housing",
        "existing_credits",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend((1..=extra).map(|i| format!("x{i}")));
    for c in CHANNELS {
        header.extend((1..=months).rev().map(|a| column(c, a)));
    }
    header.push(LABEL.to_string());
    let mut out = String::with_capacity(rows * (60 + months * 20 + extra * 8));
    out.push_str(&header.join(","));
    out.push('\n');

    let mut hist: Vec<Month> = Vec::with_capacity(months);
    let mut cells: Vec<String> = Vec::with_capacity(header.len());
    for _ in 0..rows {
        cells.clear();
        let age: u32 = rng.random_range(19..76);
        let income = income_d
            .map_or(30000.0f64, |d: LogNormal<f64>| d.sample(&mut rng))
            .round();
        let limit = ((income * rng.random_range(0.1..0.6) / 100.0).round() * 100.0).max(500.0);
        let employment = pick(&mut rng, &EMPLOYMENT, &[0.6, 0.2, 0.12, 0.08]);
        let housing = pick(&mut rng, &HOUSING, &[0.55, 0.35, 0.1]);
        let credits: u32 = rng.random_range(1..5);
        let xs: Vec<f64> = (0..extra).map(|_| gauss(&mut rng)).collect();

        // The level of financial stress the static features set.
        let mut level = -0.4 + if age < 25 { 0.5 } else { 0.0 } - 0.01 * (age as f64 - 40.0);
        level += match employment {
            "unemployed" => 1.2,
            "temporary" => 0.5,
            "self-employed" => 0.3,
            _ => 0.0,
        };
        level += if housing == "rent" { 0.3 } else { 0.0 };
        level += 0.2 * (credits as f64 - 1.0) - 0.3 * (income / 30000.0).ln();
        if let Some(x1) = xs.first() {
            level += 0.05 * x1; // the first noise column carries a trace of signal
        }

        // Months on book within the window: 15 % opened during it.
        let open = if rng.random::<f64>() < 0.15 && months > 1 {
            rng.random_range(1..months)
        } else {
            months
        };
        // Simulate the whole window (oldest first) so the open months follow
        // the same process; the months before opening are blanked.
        hist.clear();
        let mut stress = level + 0.6 * gauss(&mut rng);
        let mut prev = Month {
            status: 0,
            balance: limit * rng.random_range(0.0..0.5),
            paid: 0.0,
        };
        for _ in 0..months {
            stress = level + 0.8 * (stress - level) + 0.45 * gauss(&mut rng);
            let status = if prev.status == 0 {
                if rng.random::<f64>() < sigmoid(-3.6 + 1.3 * stress) {
                    1
                } else {
                    0
                }
            } else {
                let u = rng.random::<f64>();
                let cure = sigmoid(-0.4 - 1.1 * stress);
                let roll = sigmoid(-1.2 + 0.9 * stress);
                if u < cure {
                    0
                } else if u < cure + (1.0 - cure) * roll {
                    (prev.status + 1).min(8)
                } else {
                    prev.status
                }
            };
            let bill = prev.balance;
            let paid = if bill <= 0.0 {
                0.0
            } else if status > 0 {
                bill * rng.random_range(0.0..0.03)
            } else if rng.random::<f64>() < sigmoid(0.2 - 1.0 * stress) {
                bill
            } else {
                bill * rng.random_range(0.05..0.4)
            };
            let spend = limit * rng.random_range(0.0..0.25) * (1.0 + 0.3 * stress.max(0.0));
            let interest = 0.015 * (bill - paid).max(0.0);
            let balance = (bill - paid + interest + spend).clamp(0.0, 1.2 * limit);
            let m = Month {
                status,
                balance: balance.round(),
                paid: paid.round(),
            };
            hist.push(m);
            prev = m;
        }

        // The default's log-odds: static level plus recency-weighted arrears
        // and utilisation.
        let mut z = -2.1 + 0.6 * level;
        for (i, m) in hist.iter().enumerate() {
            let age_m = months - i; // the oldest month first
            if age_m > open {
                continue;
            }
            let util = m.balance / limit;
            z += month_weight(age_m)
                * (0.75 * (m.status.min(4) as f64) + 0.9 * (util - 0.4).clamp(-0.4, 0.8));
        }
        z += 0.4 * gauss(&mut rng);
        let label = if rng.random::<f64>() < sigmoid(z) {
            POSITIVE
        } else {
            "no"
        };

        cells.push(age.to_string());
        cells.push(if rng.random::<f64>() < 0.02 {
            String::new()
        } else {
            format!("{income}")
        });
        cells.push(format!("{limit}"));
        cells.push(employment.to_string());
        cells.push(housing.to_string());
        cells.push(credits.to_string());
        cells.extend(xs.iter().map(|x| format!("{:.3}", x)));
        for c in 0..CHANNELS.len() {
            for (i, m) in hist.iter().enumerate() {
                let age_m = months - i;
                if age_m > open {
                    cells.push(String::new());
                    continue;
                }
                cells.push(match c {
                    0 => m.status.to_string(),
                    1 => format!("{}", m.balance),
                    _ => format!("{}", m.paid),
                });
            }
        }
        cells.push(label.to_string());
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let mut lines = text.lines();
        let header = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .collect();
        let rows = lines
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        (header, rows)
    }

    fn num(cell: &str) -> Option<f64> {
        cell.parse().ok()
    }

    /// The version's promise: the same arguments give the same table.
    /// The digest below was printed by this test's first run of version 1;
    /// a change of output must come with a new VERSION and a new function.
    #[test]
    fn frozen_output_digest() {
        let text = generate(300, 12, 2, 5);
        let hex = ferrisk::format::sha256_hex(text.as_bytes());
        assert_eq!(VERSION, 1);
        assert_eq!(
            hex, FROZEN_V1_DIGEST,
            "the version-1 generator changed its output"
        );
    }
    const FROZEN_V1_DIGEST: &str =
        "e9469d236fa09fdb080fc3654082e85f988d75cdd4862476d058a71d7f619074";

    #[test]
    fn shape_names_and_short_histories() {
        let text = generate(2000, 12, 3, 1);
        let (header, rows) = table(&text);
        assert_eq!(header.len(), 6 + 3 + 3 * 12 + 1);
        assert_eq!(header[9], "status_m12");
        assert_eq!(header[20], "status_m1");
        assert_eq!(header[21], "balance_m12");
        assert_eq!(header.last().map(String::as_str), Some(LABEL));
        assert!(rows.iter().all(|r| r.len() == header.len()));
        // Some accounts have empty old months, never empty recent ones.
        let short = rows.iter().filter(|r| r[9].is_empty()).count();
        assert!(short > 150 && short < 450, "{short}");
        assert!(rows.iter().all(|r| !r[20].is_empty()));
        let args = sequence_args(12);
        assert_eq!(args.len(), 3);
        assert!(args[0].starts_with("status=status_m12,status_m11,"));
        assert!(args[0].ends_with(",status_m1"));
    }

    /// Delinquency persists: a customer in arrears last-but-one month is far
    /// more often in arrears last month than one who was not.
    #[test]
    fn arrears_persist_and_predict_default() {
        let text = generate(6000, 12, 0, 2);
        let (header, rows) = table(&text);
        let col = |name: &str| header.iter().position(|h| h == name).unwrap_or(0);
        let (s1, s2, s12) = (col("status_m1"), col("status_m2"), col("status_m12"));
        let y = header.len() - 1;
        let rate = |pred: &dyn Fn(&Vec<String>) -> bool, target: &dyn Fn(&Vec<String>) -> bool| {
            let sel: Vec<&Vec<String>> = rows.iter().filter(|r| pred(r)).collect();
            sel.iter().filter(|r| target(r)).count() as f64 / sel.len().max(1) as f64
        };
        let late = |c: usize| move |r: &Vec<String>| num(&r[c]).unwrap_or(0.0) > 0.0;
        let on_time = |c: usize| move |r: &Vec<String>| num(&r[c]) == Some(0.0);
        let stay = rate(&late(s2), &late(s1));
        let enter = rate(&on_time(s2), &late(s1));
        assert!(stay > 3.0 * enter, "persistence {stay} vs entry {enter}");
        // Recent arrears raise default far more than old ones.
        let dflt = |r: &Vec<String>| r[y] == POSITIVE;
        let recent = rate(&late(s1), &dflt) - rate(&on_time(s1), &dflt);
        let old = rate(&late(s12), &dflt) - rate(&on_time(s12), &dflt);
        assert!(
            recent > 0.15 && recent > 1.5 * old,
            "recent {recent}, old {old}"
        );
        let base = rows.iter().filter(|r| dflt(r)).count() as f64 / rows.len() as f64;
        assert!(base > 0.1 && base < 0.4, "default rate {base}");
    }

    /// Bills follow each other: this month's balance is last month's minus
    /// the payment plus spending, so consecutive balances correlate strongly.
    #[test]
    fn balances_follow_each_other() {
        let text = generate(3000, 6, 0, 3);
        let (header, rows) = table(&text);
        let col = |name: &str| header.iter().position(|h| h == name).unwrap_or(0);
        let (b1, b2) = (col("balance_m1"), col("balance_m2"));
        let pairs: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|r| Some((num(&r[b1])?, num(&r[b2])?)))
            .collect();
        let n = pairs.len() as f64;
        let (ma, mb) = pairs
            .iter()
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
        let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
        for (x, y) in &pairs {
            sab += (x - ma) * (y - mb);
            saa += (x - ma) * (x - ma);
            sbb += (y - mb) * (y - mb);
        }
        let r = sab / (saa * sbb).sqrt();
        assert!(r > 0.7, "correlation of consecutive balances {r}");
    }

    #[test]
    fn month_weights_fall_with_age() {
        assert_eq!(month_weight(1), 1.0);
        assert!(month_weight(2) < 0.7 && month_weight(2) > 0.6);
        assert!(month_weight(12) < 0.01);
    }
}
