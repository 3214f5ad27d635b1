#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Temporary profiling probe (not committed): explains N customers of a CSV.
use ferrisk::csv::CsvText;
use ferrisk::Scorer;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let s = Scorer::from_bytes(&std::fs::read(&a[1]).unwrap()).unwrap();
    let csv = std::fs::read_to_string(&a[2]).unwrap();
    let n: usize = a[3].parse().unwrap();
    let mut t = CsvText::parse(&csv).unwrap();
    let header = t.header().to_vec();
    let map = s.map_header(&header).unwrap();
    let mut x = Vec::new();
    let mut w = Vec::new();
    let mut acc = 0.0f64;
    let start = std::time::Instant::now();
    let mut done = 0;
    for r in &mut t {
        if done == n {
            break;
        }
        let (_, f) = r.unwrap();
        let v = s.parse_row(&map, &f).unwrap();
        w.clear();
        s.design_row(&v, &mut x, &mut w).unwrap();
        let e = s.explain_encoded(&v, &x).unwrap();
        acc += e.base as f64;
        done += 1;
    }
    println!(
        "{done} explanations, {:.3} ms each, {acc}",
        start.elapsed().as_secs_f64() * 1e3 / done as f64
    );
}
