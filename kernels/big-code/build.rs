//! Generates the functions of the `big-code` kernel from `spec.rs`.

use std::fmt::Write as _;

#[allow(dead_code)]
mod spec {
    include!("spec.rs");
}

fn main() {
    println!("cargo:rerun-if-changed=spec.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let mut out = String::new();
    for i in 0..spec::FUNCTIONS {
        writeln!(out, "#[inline(never)]\nfn f{i}(mut x: u64) -> u64 {{").unwrap();
        for step in spec::steps(i) {
            match step {
                spec::Step::MulXor(m, c) => writeln!(out, "    x = x.wrapping_mul({m:#x}) ^ {c:#x};"),
                spec::Step::RotAdd(r, c) => writeln!(out, "    x = x.rotate_left({r}).wrapping_add({c:#x});"),
                spec::Step::ShiftXor(s) => writeln!(out, "    x ^= x >> {s};"),
                spec::Step::SubRotr(c, r) => writeln!(out, "    x = x.wrapping_sub({c:#x}).rotate_right({r});"),
            }
            .unwrap();
        }
        writeln!(out, "    x\n}}").unwrap();
    }
    writeln!(out, "static FUNCS: [fn(u64) -> u64; {}] = [", spec::FUNCTIONS).unwrap();
    for i in 0..spec::FUNCTIONS {
        writeln!(out, "    f{i},").unwrap();
    }
    writeln!(out, "];").unwrap();
    let dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(format!("{dir}/functions.rs"), out).expect("write functions.rs");
}
