//! The table of the training-memory benchmark (`scripts/bench-memory.sh`):
//! `cargo run --release -p ferrisk-train --example mem_data -- ROWS SEED > out.csv`.
//!
//! 20 columns: 12 numeric (integers of few and of many values, amounts with
//! decimals, some missing as empty, `NA` or `?`), 7 categorical (3 to 20
//! categories, one with missing values) and a binary label `default`
//! (`yes` / `no`, about 28 % `yes`) with real signal in most columns.
//! Written here, not in `synth.rs`: its columns are chosen for the memory
//! figures (widths typical of credit data), not for the demo.

use std::io::{BufWriter, Write};

/// A small deterministic generator (SplitMix64): the file is the same for
/// the same rows and seed on every machine.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const PURPOSE: [&str; 8] = [
    "car",
    "furniture",
    "education",
    "business",
    "repairs",
    "holiday",
    "debt_consolidation",
    "other",
];
const HOUSING: [&str; 3] = ["own", "rent", "free"];
const EMPLOYMENT: [&str; 5] = [
    "unemployed",
    "lt_1_year",
    "1_to_4_years",
    "4_to_7_years",
    "ge_7_years",
];
const EDUCATION: [&str; 5] = ["primary", "secondary", "vocational", "bachelor", "master"];
const MARITAL: [&str; 4] = ["single", "married", "divorced", "widowed"];
const CHANNEL: [&str; 3] = ["branch", "online", "broker"];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let mut g = Mix(seed);
    let out = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, out.lock());
    writeln!(
        w,
        "age,income,loan_amount,duration_months,debt_ratio,credit_lines,late_payments,\
         utilisation,savings,years_employed,bureau_score,inquiries,purpose,housing,\
         employment,region,education,marital_status,channel,default"
    )?;
    for _ in 0..rows {
        let age = 18 + g.below(63);
        let income = (2.0 * g.normal() * 0.45 + 10.4).exp().min(500_000.0);
        let loan = 500 + g.below(49_500);
        let duration = [6, 12, 18, 24, 36, 48, 60][g.below(7) as usize];
        let debt_ratio = (g.unit() * 0.9 + 0.05 * g.normal()).clamp(0.0, 1.5);
        let lines = g.below(21);
        let late = (g.unit().powi(3) * 10.0) as u64;
        let util = g.unit();
        let savings = (g.normal() * 1.2 + 8.0).exp();
        let years = (g.unit() * (age as f64 - 17.0)).min(45.0);
        let bureau = (650.0 + 80.0 * g.normal()).clamp(300.0, 850.0) as u64;
        let inquiries = g.below(16);
        let purpose = g.below(8) as usize;
        let housing = g.below(3) as usize;
        let employment = g.below(5) as usize;
        let region = g.below(20);
        let education = g.below(5) as usize;
        let marital = g.below(4) as usize;
        let channel = g.below(3) as usize;

        let z = -1.6 + 1.8 * (debt_ratio - 0.5) + 0.35 * late as f64
            - 0.012 * (bureau as f64 - 650.0)
            + 0.9 * (util - 0.5)
            - 0.25 * (income.ln() - 10.4)
            + 0.015 * (duration as f64 - 24.0)
            - 0.01 * (age as f64 - 45.0)
            + 0.08 * inquiries as f64
            - 1.3
            + [0.2, 0.1, -0.2, 0.4, 0.0, 0.3, 0.5, 0.0][purpose]
            + [-0.3, 0.2, 0.1][housing]
            + [0.7, 0.3, 0.0, -0.2, -0.4][employment]
            + 0.3 * g.normal();
        let default = g.unit() < 1.0 / (1.0 + (-z).exp());

        // Missing values: empty, NA or ?, in a few columns.
        let gap = |g: &mut Mix, share: f64| g.unit() < share;
        write!(w, "{age},")?;
        if gap(&mut g, 0.02) {
            write!(w, ",")?;
        } else {
            write!(w, "{income:.2},")?;
        }
        write!(w, "{loan},{duration},{debt_ratio:.4},{lines},")?;
        if gap(&mut g, 0.03) {
            write!(w, "NA,")?;
        } else {
            write!(w, "{late},")?;
        }
        write!(w, "{util:.3},")?;
        if gap(&mut g, 0.10) {
            write!(w, ",")?;
        } else {
            write!(w, "{savings:.2},")?;
        }
        write!(w, "{years:.1},{bureau},{inquiries},")?;
        let employment = if gap(&mut g, 0.04) {
            "?"
        } else {
            EMPLOYMENT[employment]
        };
        writeln!(
            w,
            "{},{},{employment},R{region:02},{},{},{},{}",
            PURPOSE[purpose],
            HOUSING[housing],
            EDUCATION[education],
            MARITAL[marital],
            CHANNEL[channel],
            if default { "yes" } else { "no" }
        )?;
    }
    w.flush()
}
