//! Golden state hashes: every example kernel over a scripted inbox, the
//! state hash at each level end compared with `tests/golden/state_hashes.json`.
//! A change there is a change of soru's state layout or semantics and must be
//! deliberate: regenerate with `SORU_UPDATE_GOLDEN=1 cargo test -p soru-pvm --test golden`
//! and review the diff.

mod common;

use std::collections::BTreeMap;

use soru_pvm::{InputRequest, Pvm, RevealRequest};

fn kernel(name: &str) -> Vec<u8> {
    common::example_kernel(name)
}

fn u32_msg(tag: u8, n: u32) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&n.to_le_bytes());
    m
}

/// The scripted inbox of each kernel: external messages per level.
fn script(name: &str) -> Vec<Vec<Vec<u8>>> {
    match name {
        "echo" => vec![
            vec![b"\x02\0\0\0\0".to_vec(), b"hello".to_vec()],
            vec![],
            vec![b"x".to_vec()],
        ],
        "counter" => vec![vec![b"a".to_vec()], vec![b"b".to_vec(), b"c".to_vec()], vec![]],
        "reboot" => vec![vec![], vec![u32_msg(b'R', 5)], vec![]],
        "trap" => vec![vec![b"trap".to_vec()], vec![b"ok".to_vec()]],
        "deep-recursion" => vec![vec![u32_msg(b'D', 1_000)], vec![u32_msg(b'D', 100_000)], vec![]],
        "memory-grow" => vec![vec![u32_msg(b'G', 3)], vec![u32_msg(b'G', 70_000)]],
        "compute" => vec![vec![u32_msg(b'C', 1_000)], vec![u32_msg(b'C', 2)]],
        "durable-heavy" => vec![vec![b"1".to_vec()], vec![b"2".to_vec(), b"3".to_vec()]],
        "big-code" => vec![vec![], vec![b"z".to_vec()]],
        "hostfns" => vec![vec![], vec![]],
        other => panic!("no script for {other}"),
    }
}

fn run(name: &str) -> Vec<String> {
    let config = common::config(50_000_000_000_000);
    let mut pvm = Pvm::install_boot_sector(&config, &kernel(name)).expect("genesis");
    let mut hashes = vec![pvm.state_hash().unwrap().to_string()];
    for (i, messages) in script(name).into_iter().enumerate() {
        let level = i as u32 + 1;
        let payloads: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        common::feed(&mut pvm, level, &payloads);
        loop {
            pvm.run_until_input(u128::MAX).unwrap();
            match pvm.input_request() {
                InputRequest::Reveal(RevealRequest::Metadata) => pvm
                    .reveal(&[[0x11; 20].as_slice(), &1i32.to_be_bytes()].concat())
                    .unwrap(),
                InputRequest::Reveal(RevealRequest::RawData(_)) => pvm.reveal(b"").unwrap(),
                _ => break,
            }
        }
        hashes.push(format!("{} {}", pvm.current_tick(), pvm.state_hash().unwrap()));
    }
    hashes
}

#[test]
fn state_hashes_are_the_golden_ones() {
    let names = [
        "echo",
        "counter",
        "reboot",
        "trap",
        "deep-recursion",
        "memory-grow",
        "compute",
        "durable-heavy",
        "big-code",
        "hostfns",
    ];
    let actual: BTreeMap<String, Vec<String>> = names.iter().map(|n| (n.to_string(), run(n))).collect();
    let path = format!("{}/tests/golden/state_hashes.json", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("SORU_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
        return;
    }
    let golden: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("golden file")).expect("json");
    assert_eq!(actual, golden);
}
