//! The decoder and validator never panic: not on arbitrary bytes, not on
//! valid modules with bytes flipped, truncated or extended, in either mode.

mod common;

use proptest::prelude::*;
use soru_wasm::{Decoder, Mode};

fn decode_both(bytes: &[u8]) {
    let _ = Decoder::decode(Mode::Pvm, bytes);
    let _ = Decoder::decode(Mode::Conformance, bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_both(&bytes);
        let mut with_header = b"\0asm\x01\0\0\0".to_vec();
        with_header.extend(&bytes);
        decode_both(&with_header);
    }

    #[test]
    fn mutated_modules(seed in 0u64..5_000, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        if let Some(mut bytes) = common::smith_module(seed) {
            for (at, value) in flips {
                let i = at % bytes.len();
                bytes[i] = value;
            }
            decode_both(&bytes);
            let keep = cut % (bytes.len() + 1);
            decode_both(&bytes[..keep]);
        }
    }
}

#[test]
fn every_valid_module_decodes_step_by_step_like_in_one_go() {
    // The resumable decoder gives the same module whether it is driven one
    // unit at a time (as the PVM does) or all at once.
    for seed in 0..200 {
        let Some(bytes) = common::smith_module(seed) else {
            continue;
        };
        let whole = Decoder::decode(Mode::Pvm, &bytes);
        let mut d = Decoder::new(Mode::Pvm);
        let mut steps = 0u64;
        let stepped = loop {
            match d.step(&bytes) {
                Ok(soru_wasm::decode::Progress::Continue) => steps += 1,
                Ok(soru_wasm::decode::Progress::Done) => break Ok(d.finish()),
                Err(e) => break Err(e),
            }
        };
        assert_eq!(whole, stepped, "seed {seed}");
        if whole.is_ok() {
            assert!(steps > 0);
        }
    }
}

#[test]
fn imports_are_limited() {
    // n imports of `m.f: [] -> []`.
    let module = |n: u32| {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([1, 4, 1, 0x60, 0, 0]);
        let mut imports = Vec::new();
        common::leb(u64::from(n), &mut imports);
        for _ in 0..n {
            imports.extend([1, b'm', 1, b'f', 0, 0]);
        }
        m.push(2);
        common::leb(imports.len() as u64, &mut m);
        m.extend(imports);
        m
    };
    let max = soru_wasm::limits::MAX_IMPORTS as u32;
    let module_at_limit = Decoder::decode(Mode::Pvm, &module(max)).expect("the limit is allowed");
    assert_eq!(module_at_limit.imports.len(), max as usize);
    assert!(matches!(
        Decoder::decode(Mode::Pvm, &module(max + 1)),
        Err(soru_wasm::DecodeError::Limit { .. })
    ));
}
