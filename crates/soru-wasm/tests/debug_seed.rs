//! Debugging aid for the differential test: `SEED=n cargo test -p soru-wasm
//! --test debug_seed -- --ignored --nocapture` prints the wasm-smith module of
//! seed `n` in text form.

mod common;

#[test]
#[ignore = "debugging aid, run by hand with SEED=n"]
fn dump() {
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let bytes = common::smith_module(seed).expect("module generated");
    println!("{}", wasmprinter::print_bytes(&bytes).expect("printable"));
}
