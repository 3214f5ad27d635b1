//! A synthetic customer table, for machines without the real datasets and
//! for golden files. Eight features of the kinds a lender holds (numeric,
//! categorical, a few missing values), and a `default` label drawn from a
//! known non-linear risk function, so every model kind has something to learn.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, Normal};

pub const LABEL: &str = "default";
pub const POSITIVE: &str = "yes";

const EMPLOYMENT: [&str; 4] = ["permanent", "temporary", "self-employed", "unemployed"];
const HOUSING: [&str; 3] = ["own", "rent", "free"];
const PURPOSE: [&str; 5] = ["car", "home", "education", "business", "other"];

/// One of `items`, drawn with the given weights.
pub(crate) fn pick<'a>(rng: &mut SmallRng, items: &[&'a str], weights: &[f64]) -> &'a str {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (item, w) in items.iter().zip(weights) {
        if u < *w {
            return item;
        }
        u -= w;
    }
    items.last().copied().unwrap_or("")
}

/// Writes `rows` synthetic customers as CSV text (header included).
pub fn generate(rows: usize, seed: u64) -> String {
    let mut rng = SmallRng::seed_from_u64(seed);
    let income_d = LogNormal::<f64>::new(10.4, 0.45).ok();
    let noise = Normal::<f64>::new(0.0, 1.0).ok();
    let mut out = String::with_capacity(rows * 80);
    out.push_str(
        "age,income,loan_amount,duration_months,existing_credits,employment,housing,purpose,",
    );
    out.push_str(LABEL);
    out.push('\n');
    for _ in 0..rows {
        let age: u32 = rng.random_range(19..76);
        let income = income_d
            .map_or(30000.0f64, |d: LogNormal<f64>| d.sample(&mut rng))
            .round();
        let duration: u32 = [6, 12, 18, 24, 36, 48, 60][rng.random_range(0..7)];
        let loan = (income * rng.random_range(0.05..1.2) / 100.0).round() * 100.0;
        let credits: u32 = rng.random_range(1..5);
        let employment = pick(&mut rng, &EMPLOYMENT, &[0.6, 0.2, 0.12, 0.08]);
        let housing = pick(&mut rng, &HOUSING, &[0.55, 0.35, 0.1]);
        let purpose = pick(&mut rng, &PURPOSE, &[0.3, 0.2, 0.1, 0.15, 0.25]);
        // The risk function: burden ratio and youth raise risk non-linearly.
        let burden = loan / income.max(1.0) * (duration as f64 / 12.0).sqrt();
        let mut z = -2.2 + 2.4 * burden.min(2.5) + if age < 25 { 0.8 } else { 0.0 }
            - 0.015 * (age as f64 - 40.0).max(0.0)
            + 0.25 * (credits as f64 - 1.0);
        z += match employment {
            "unemployed" => 1.4,
            "temporary" => 0.6,
            "self-employed" => 0.3,
            _ => 0.0,
        };
        z += match housing {
            "rent" => 0.35,
            "free" => 0.2,
            _ => 0.0,
        };
        if purpose == "business" {
            z += 0.4;
        }
        z += 0.5 * noise.map_or(0.0, |d| d.sample(&mut rng));
        let p = 1.0 / (1.0 + (-z).exp());
        let label = if rng.random::<f64>() < p { "yes" } else { "no" };
        // About 2% missing income and 1% missing housing, as real tables have.
        let income_s = if rng.random::<f64>() < 0.02 {
            String::new()
        } else {
            format!("{income}")
        };
        let housing_s = if rng.random::<f64>() < 0.01 {
            ""
        } else {
            housing
        };
        out.push_str(&format!(
            "{age},{income_s},{loan},{duration},{credits},{employment},{housing_s},{purpose},{label}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_with_both_classes_and_missing_cells() {
        let a = generate(500, 1);
        assert_eq!(a, generate(500, 1));
        assert_ne!(a, generate(500, 2));
        let lines: Vec<&str> = a.lines().collect();
        assert_eq!(lines.len(), 501);
        let yes = lines.iter().filter(|l| l.ends_with(",yes")).count();
        assert!(yes > 50 && yes < 450, "{yes}");
        assert!(lines.iter().any(|l| l.contains(",,")));
    }
}
