//! Rule evaluation speed: the whole built-in pack over synthetic inventories
//! of 10k and 100k resources. Throughput is rule × resource evaluations.
//! Run: `cargo bench --bench evaluate` (numbers are in the README).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use backstop::rules::RuleSet;

#[path = "support/synthetic.rs"]
mod synthetic;

fn evaluations(engine: &backstop::rules::Engine, inventory: &backstop::model::Inventory) -> u64 {
    engine
        .rules()
        .iter()
        .map(|rule| {
            inventory
                .resources
                .iter()
                .filter(|r| rule.def.applies_to(r.resource_type.name))
                .count() as u64
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let engine = RuleSet::builtin()
        .unwrap()
        .compile(&Default::default())
        .unwrap();
    let now = synthetic::NOW.parse().unwrap();
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(10);
    for n in [10_000, 100_000] {
        let inventory = synthetic::inventory(n);
        group.throughput(Throughput::Elements(evaluations(&engine, &inventory)));
        group.bench_with_input(BenchmarkId::new("verdicts", n), &inventory, |b, inv| {
            b.iter(|| engine.evaluate(inv, now))
        });
        group.bench_with_input(BenchmarkId::new("full_report", n), &inventory, |b, inv| {
            b.iter(|| engine.audit(inv, now))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
