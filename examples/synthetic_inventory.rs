//! Writes a synthetic inventory for `bench/audit-memory`:
//! `cargo run --release --example synthetic_inventory -- 100000 > inv.json`

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    print!("{}", synthetic::inventory(n).to_json());
}
