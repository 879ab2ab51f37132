//! Parse/format of hash rates and the pro-rata split, each beside a naive baseline.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hashmarket_contracts::{split_by_delivery, HashRate, ProRata, Unit};
use rust_decimal::Decimal;
use std::str::FromStr;

fn hash_rates(c: &mut Criterion) {
    c.bench_function("hash_rate/parse \"1.5 PH/s\"", |b| {
        b.iter(|| HashRate::parse(black_box("1.5 PH/s")))
    });
    // Baseline: the same parse through rust_decimal (what one would write first).
    c.bench_function("hash_rate/parse via Decimal (baseline)", |b| {
        b.iter(|| {
            let text = black_box("1.5 PH/s");
            let (number, _) = text.split_once(' ').unwrap();
            Decimal::from_str(number).unwrap() * Decimal::from(1_000_000_000_000_000u64)
        })
    });
    let rate = HashRate::parse("1.5 PH/s").unwrap();
    c.bench_function("hash_rate/format in TH/s", |b| {
        b.iter(|| black_box(rate).format(Unit::Th))
    });
}

fn pro_rata(c: &mut Criterion) {
    let year_secs = 365 * 86_400;
    c.bench_function("pro_rata/8760 hourly periods with delivery split", |b| {
        b.iter(|| {
            let s = ProRata::new(black_box(123_456_789), 0, year_secs).unwrap();
            s.periods(3600)
                .map(|p| split_by_delivery(p.due_minor, 97, 100).unwrap().0)
                .sum::<i128>()
        })
    });
    // Baseline: per-period Decimal division without carry (loses remainders).
    c.bench_function("pro_rata/8760 periods naive Decimal (baseline)", |b| {
        b.iter(|| {
            let cost = Decimal::from(black_box(123_456_789));
            let per = (cost / Decimal::from(8760)).floor();
            (0..8760)
                .map(|_| per * Decimal::from(97) / Decimal::from(100))
                .sum::<Decimal>()
        })
    });
}

criterion_group!(benches, hash_rates, pro_rata);
criterion_main!(benches);
