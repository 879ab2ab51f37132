//! Criterion throughput benchmark: every engine on the identical command
//! stream of each workload, a fresh warmed book per pass (setup not timed).
//!
//! `cargo bench -p hashmarket-matching-bench --bench throughput`

mod common;

use std::time::{Duration, Instant};

use common::{warmed, Emulated, Engine, Lobster, Native, OrderbookRs};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use hashmarket_matching_bench::{generate, Workload, WorkloadSpec};

const OPS: usize = 200_000;

fn bench_engine<E: Engine>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    workload: &Workload,
) {
    group.bench_function(E::NAME, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut engine: E = warmed(&workload.warmup);
                let start = Instant::now();
                let mut checksum = 0u64;
                for op in &workload.ops {
                    checksum = checksum.wrapping_add(engine.run(op));
                }
                total += start.elapsed();
                std::hint::black_box(checksum);
            }
            total
        })
    });
}

fn engines(c: &mut Criterion) {
    for spec in [
        WorkloadSpec::exchange_core(OPS),
        WorkloadSpec::place_heavy(OPS),
        WorkloadSpec::cancel_heavy(OPS),
    ] {
        let workload = generate(spec);
        let mut group = c.benchmark_group(spec.name);
        group.throughput(Throughput::Elements(workload.ops.len() as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(3));
        bench_engine::<Native>(&mut group, &workload);
        bench_engine::<Emulated>(&mut group, &workload);
        bench_engine::<Lobster>(&mut group, &workload);
        bench_engine::<OrderbookRs>(&mut group, &workload);
        group.finish();
    }
}

criterion_group!(benches, engines);
criterion_main!(benches);
