//! The `soru` command's library part: the benchmark scenarios of
//! `soru bench …`, shared with the criterion benches. The command-line
//! front end is in `main.rs`.

pub mod bench;
