#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Temporary profiling probe (not committed): Model::outputs over 100k rows in blocks of 128.
use ferrisk::csv::CsvText;
use ferrisk::Scorer;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let s = Scorer::from_bytes(&std::fs::read(&a[1]).unwrap()).unwrap();
    let csv = std::fs::read_to_string(&a[2]).unwrap();
    let reps: usize = a[3].parse().unwrap();
    let bs: usize = a.get(4).map_or(128, |v| v.parse().unwrap());
    let mut t = CsvText::parse(&csv).unwrap();
    let header = t.header().to_vec();
    let map = s.map_header(&header).unwrap();
    let w = s.width();
    let mut rows = Vec::new();
    let mut x = Vec::new();
    let mut warn = Vec::new();
    for r in &mut t {
        let (_, f) = r.unwrap();
        let v = s.parse_row(&map, &f).unwrap();
        warn.clear();
        s.design_row(&v, &mut x, &mut warn).unwrap();
        rows.extend_from_slice(&x);
        if rows.len() >= 100_000 * w { break; }
    }
    let n = rows.len() / w;
    let mut out = vec![0.0f32; bs];
    let mut sum = 0.0f64;
    let start = std::time::Instant::now();
    for _ in 0..reps {
        for b in rows.chunks(bs * w) {
            let k = b.len() / w;
            s.bundle().model.outputs(b, w, &mut out[..k]);
            sum += out[..k].iter().map(|&v| v as f64).sum::<f64>();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{n} rows x {reps}: {:.0} rows/s, checksum {sum}", (n * reps) as f64 / secs);
}
