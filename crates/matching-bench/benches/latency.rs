//! Throughput and per-command latency of every engine on every workload, as a
//! Markdown table (the source of the figures in BENCHMARKS.md).
//!
//! `cargo bench -p hashmarket-matching-bench --bench latency`
//! (`HM_BENCH_OPS=N` changes the stream length; default 1,000,000).
//!
//! Throughput: the whole stream with no per-op timing, median of 5 runs, each
//! on a freshly warmed book. Latency: each op timed alone with `Instant`
//! (which adds ~20–30 ns of its own) into an HDR histogram.

mod common;

use std::time::Instant;

use common::{warmed, Emulated, Engine, Lobster, Native, OrderbookRs};
use hashmarket_matching_bench::{generate, BenchOp, Workload, WorkloadSpec};
use hdrhistogram::Histogram;

const RUNS: usize = 5;

fn main() {
    let op_count = std::env::var("HM_BENCH_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let only = std::env::var("HM_BENCH_ENGINE").ok();
    let specs = [
        WorkloadSpec::exchange_core(op_count),
        WorkloadSpec::place_heavy(op_count),
        WorkloadSpec::cancel_heavy(op_count),
    ];
    println!("| workload | engine | Mops/s | all p50 | all p99 | all p99.9 | place p50 | place p99 | place p99.9 | fill checksum |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for spec in specs {
        let workload = generate(spec);
        eprintln!("{}: {:?}", spec.name, workload.stats);
        let wanted = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
        if wanted(Native::NAME) {
            report::<Native>(&workload);
        }
        if wanted(Emulated::NAME) {
            report::<Emulated>(&workload);
        }
        if wanted(Lobster::NAME) {
            report::<Lobster>(&workload);
        }
        if wanted(OrderbookRs::NAME) {
            report::<OrderbookRs>(&workload);
        }
    }
}

fn report<E: Engine>(workload: &Workload) {
    let ops_per_sec = throughput::<E>(workload);
    let (all, place, checksum) = latencies::<E>(workload);
    println!(
        "| {} | {} | {:.2} | {} | {} | {} | {} | {} | {} | {} |",
        workload.spec.name,
        E::NAME,
        ops_per_sec / 1e6,
        ns(&all, 50.0),
        ns(&all, 99.0),
        ns(&all, 99.9),
        ns(&place, 50.0),
        ns(&place, 99.0),
        ns(&place, 99.9),
        checksum,
    );
}

fn ns(histogram: &Histogram<u64>, percentile: f64) -> String {
    format!("{} ns", histogram.value_at_percentile(percentile))
}

/// Median ops/s over `RUNS` untimed-per-op passes.
fn throughput<E: Engine>(workload: &Workload) -> f64 {
    let mut rates: Vec<f64> = (0..RUNS)
        .map(|_| {
            let mut engine: E = warmed(&workload.warmup);
            let start = Instant::now();
            let mut checksum = 0u64;
            for op in &workload.ops {
                checksum = checksum.wrapping_add(engine.run(op));
            }
            let elapsed = start.elapsed();
            std::hint::black_box(checksum);
            workload.ops.len() as f64 / elapsed.as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[RUNS / 2]
}

/// Per-op latency histograms: all ops, and places only.
fn latencies<E: Engine>(workload: &Workload) -> (Histogram<u64>, Histogram<u64>, u64) {
    let mut all = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).expect("valid bounds");
    let mut place = all.clone();
    let mut engine: E = warmed(&workload.warmup);
    let mut checksum = 0u64;
    for op in &workload.ops {
        let start = Instant::now();
        checksum = checksum.wrapping_add(engine.run(std::hint::black_box(op)));
        let nanos = start.elapsed().as_nanos() as u64;
        all.saturating_record(nanos.max(1));
        if BenchOp::is_place(op) {
            place.saturating_record(nanos.max(1));
        }
    }
    (all, place, checksum)
}
