//! `sqlx::migrate!` embeds the migrations at compile time, but cargo does not
//! know it reads those directories: without this, adding a migration file does
//! not rebuild the crate and the binary silently ships the old schema.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/postgres");
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
}
