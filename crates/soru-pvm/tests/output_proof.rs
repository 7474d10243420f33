//! Output proofs: every message an echo kernel wrote is proved against the
//! state hash and read back exactly; proofs of other states, of positions
//! never written or of expired levels are refused; every single-byte change
//! and every truncation of a proof is refused or (when it happens to name
//! another message the same nodes prove) yields that true message — never a
//! false one. Prints proof sizes.

mod common;

use soru_core::StateHash;
use soru_pvm::output_proof::{prove_output, verify_output, Output, OutputProofError};
use soru_pvm::{Pvm, PvmConfig};

/// Levels an outbox level is kept in these tests.
const VALIDITY: u32 = 3;

fn pvm() -> Pvm {
    let config = PvmConfig {
        outbox_validity_period: VALIDITY,
        ..common::config(11_000_000_000)
    };
    let kernel = wat::parse_str(common::echo_wat()).expect("valid wat");
    Pvm::install_boot_sector(&config, &kernel).expect("genesis")
}

fn run_level(pvm: &mut Pvm, level: u32, payloads: &[Vec<u8>]) {
    // `feed` frames each payload as an external message; the kernel echoes it.
    let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    common::feed(pvm, level, &refs);
    pvm.run_until_input(u128::MAX).expect("runs");
}

fn payload(level: u32, index: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32 ^ level.wrapping_mul(31) ^ index as u32) as u8)
        .collect()
}

/// The outbox messages that exist in `pvm`, by (level, index).
fn true_output(pvm: &mut Pvm, level: u32, index: u32) -> Option<Vec<u8>> {
    pvm.outbox(level).expect("outbox").get(index as usize).cloned()
}

#[test]
fn every_message_is_proved_and_read_back() {
    let mut p = pvm();
    let mut sizes = Vec::new();
    for level in 1..=3 {
        let payloads: Vec<Vec<u8>> = (0..4).map(|i| payload(level, i, 1 + 300 * i)).collect();
        run_level(&mut p, level, &payloads);
    }
    // The largest message a kernel can write.
    run_level(&mut p, 4, &[payload(4, 0, 4095)]);
    let state = p.state_hash().expect("hash");
    for level in 2..=4 {
        let messages = p.outbox(level).expect("outbox");
        assert!(!messages.is_empty(), "level {level} has messages");
        for (index, message) in messages.iter().enumerate() {
            let (proof, output) = prove_output(&p, level, index as u32).expect("provable");
            assert_eq!(&output.message, message);
            let verified = verify_output(proof.as_bytes(), &state).expect("verifies");
            assert_eq!(verified, output);
            sizes.push((message.len(), proof.len()));
        }
    }
    println!("output proofs (message bytes, proof bytes): {sizes:?}");
    let (_, max) = sizes.iter().copied().max_by_key(|s| s.1).expect("some");
    assert!(
        max < 4095 + 2048,
        "a 4 KiB output proof stays close to its message: {max}"
    );
}

#[test]
fn other_states_positions_and_expired_levels_are_refused() {
    let mut p = pvm();
    run_level(&mut p, 1, &[b"one".to_vec(), b"two".to_vec()]);
    let state_1 = p.state_hash().expect("hash");
    let (proof, _) = prove_output(&p, 1, 1).expect("provable");

    assert!(matches!(
        prove_output(&p, 1, 2),
        Err(OutputProofError::NoSuchOutput {
            outbox_level: 1,
            message_index: 2
        })
    ));
    assert!(matches!(
        prove_output(&p, 7, 0),
        Err(OutputProofError::NoSuchOutput { .. })
    ));
    assert!(matches!(
        verify_output(proof.as_bytes(), &StateHash([0; 32])),
        Err(OutputProofError::WrongState { .. })
    ));

    // Level 1 leaves the outbox once level 1 + VALIDITY starts.
    for level in 2..=1 + VALIDITY {
        run_level(&mut p, level, &[b"later".to_vec()]);
    }
    assert!(true_output(&mut p, 1, 0).is_none(), "level 1 expired");
    assert!(matches!(
        prove_output(&p, 1, 1),
        Err(OutputProofError::NoSuchOutput { .. })
    ));
    let state_now = p.state_hash().expect("hash");
    assert!(matches!(
        verify_output(proof.as_bytes(), &state_now),
        Err(OutputProofError::WrongState { .. })
    ));
    // The old state still proves it.
    assert_eq!(
        verify_output(proof.as_bytes(), &state_1).expect("old state").message,
        b"two"
    );
}

#[test]
fn altered_proofs_never_prove_a_false_output() {
    let mut p = pvm();
    run_level(&mut p, 1, &[b"alpha".to_vec(), payload(1, 1, 700), b"gamma".to_vec()]);
    let state = p.state_hash().expect("hash");
    for index in 0..3u32 {
        let (proof, _) = prove_output(&p, 1, index).expect("provable");
        let bytes = proof.as_bytes();
        let mut accepted_variants = 0;
        let mut check = |altered: &[u8], p: &mut Pvm| match verify_output(altered, &state) {
            Err(_) => {}
            Ok(Output {
                outbox_level,
                message_index,
                message,
            }) => {
                // Only a true statement about the state may verify.
                assert_eq!(Some(message), true_output(p, outbox_level, message_index));
                accepted_variants += 1;
            }
        };
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut altered = bytes.to_vec();
                altered[at] ^= flip;
                check(&altered, &mut p);
            }
        }
        for len in 0..bytes.len() {
            check(&bytes[..len], &mut p);
        }
        let mut extended = bytes.to_vec();
        extended.push(0);
        check(&extended, &mut p);
        assert!(
            accepted_variants < 8,
            "proof {index}: {accepted_variants} altered variants verified"
        );
    }
}

#[test]
fn arbitrary_bytes_are_refused_without_panic() {
    let state = StateHash([9; 32]);
    let mut x: u64 = 0x1234_5678_9abc_def1;
    for len in 0..2000usize {
        let bytes: Vec<u8> = (0..len % 300)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut versioned = bytes.clone();
        if !versioned.is_empty() {
            versioned[0] = 1;
        }
        assert!(verify_output(&bytes, &state).is_err());
        assert!(verify_output(&versioned, &state).is_err());
    }
}
