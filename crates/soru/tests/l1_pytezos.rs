//! Operations forged and signed by pytezos (PyPI), a Tezos client library
//! that knows nothing of soru, are accepted by a real `soru l1` process
//! through `/injection/operation`: a tez transaction and a
//! `smart_rollup_add_messages`.
//!
//! The Python interpreter is `$SORU_PYTEZOS_PYTHON` (`.ci/run` installs
//! pytezos in a virtual environment and sets it), else `python3`. Without
//! pytezos the test says so and passes, unless `$SORU_REQUIRE_PYTEZOS` is
//! set, as CI sets it.

mod common;
#[path = "../../soru-michelson/tests/pytezos/python.rs"]
mod python;

use common::{bootstrap, L1};
use python::{pytezos_python, run_python};
use serde_json::json;
use soru_l1::chain::BOOTSTRAP_SECRET_KEYS;

#[test]
fn operations_signed_by_pytezos_are_accepted() {
    let Some(python) = pytezos_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let l1 = L1::start(dir.path());
    l1.bake();
    let sender = bootstrap(0).public_key().hash();
    let receiver = bootstrap(1).public_key().hash();
    let request = json!({
        "secret_key": BOOTSTRAP_SECRET_KEYS[0],
        "branch": l1.get("/chains/main/blocks/head/hash"),
        "counter": l1.counter(&sender) + 1,
        "destination": receiver.to_base58(),
        "amount": 1_234_567,
        "fee": 5_000,
        "gas_limit": 3_000,
        "storage_limit": 0,
        "messages": [hex::encode(b"from pytezos"), "00ff"],
    });
    let output = run_python(
        &python,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pytezos/forge.py"),
        &request.to_string(),
    );
    let lines: Vec<String> = output.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2);

    let balance = |pkh: &soru_core::PublicKeyHash| -> u64 {
        let value = l1.get(&format!("/chains/main/blocks/head/context/contracts/{pkh}/balance"));
        value.as_str().unwrap().parse().unwrap()
    };
    let before = (balance(&sender), balance(&receiver));
    let transfer = l1.post("/injection/operation", &json!(lines[0])).unwrap();
    l1.bake();
    assert_eq!(l1.results(transfer.as_str().unwrap())[0]["status"], "applied");
    assert_eq!(balance(&receiver), before.1 + 1_234_567);
    assert_eq!(balance(&sender), before.0 - 1_234_567 - 5_000);

    let add = l1.post("/injection/operation", &json!(lines[1])).unwrap();
    l1.bake();
    assert_eq!(l1.results(add.as_str().unwrap())[0]["status"], "applied");
    let block = l1.get("/chains/main/blocks/head");
    let messages = soru_node::l1_block::inbox_messages(&block).unwrap();
    assert_eq!(messages, vec![b"\x01from pytezos".to_vec(), vec![1, 0, 0xff]]);
}
