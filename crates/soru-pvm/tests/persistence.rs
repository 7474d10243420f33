//! A PVM state written to the node store and reloaded continues exactly as
//! the original, whatever phase it was saved in.

mod common;

use soru_pvm::{Pvm, PvmConfig};
use soru_tree::NodeStore;

const TPS: u128 = 50_000;

fn config() -> PvmConfig {
    common::config(TPS)
}

/// A kernel that loops a while, writing durable values, so states inside
/// a run are interesting.
const KERNEL: &str = r#"(module
  (import "smart_rollup_core" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "store_write" (func $store_write (param i32 i32 i32 i32 i32) (result i32)))
  (import "smart_rollup_core" "write_output" (func $write_output (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "/acc")
  (func (export "kernel_run")
    (local $i i32) (local $n i32)
    (block $done (loop $inputs
      (local.set $n (call $read_input (i32.const 100) (i32.const 200) (i32.const 4096)))
      (br_if $done (i32.eqz (local.get $n)))
      (drop (call $write_output (i32.const 200) (local.get $n)))
      (br $inputs)))
    (loop $l
      (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 500))))
    (drop (call $store_write (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 16) (i32.const 4)))))"#;

fn feed(pvm: &mut Pvm, level: u32) {
    common::feed(pvm, level, &[&[42, 43]]);
}

fn run_levels(pvm: &mut Pvm, from: u32, to: u32) {
    for level in from..=to {
        feed(pvm, level);
        pvm.run_until_input(u128::MAX).unwrap();
    }
}

#[test]
fn reload_in_every_phase_continues_identically() {
    let boot = wat::parse_str(KERNEL).unwrap();
    let mut reference = Pvm::install_boot_sector(&config(), &boot).unwrap();
    run_levels(&mut reference, 1, 3);
    let expected = reference.state_hash().unwrap();

    // Pause points (ticks into level 2) covering collect, padding, snapshot,
    // decode, link, init and eval.
    for pause in [1u128, 3, 10, TPS, TPS + 1, TPS + 3, TPS + 40, TPS + 200, TPS + 2_000] {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Pvm::install_boot_sector(&config(), &boot).unwrap();
        run_levels(&mut p, 1, 1);
        let level2_start = p.current_tick();
        feed(&mut p, 2);
        let target = level2_start + pause;
        if p.current_tick() < target {
            p.run(target - p.current_tick()).unwrap();
        }
        let hash_before = p.state_hash().unwrap();
        let root = {
            let store = NodeStore::open(dir.path().join("store.redb")).unwrap();
            let tree = p.to_tree().unwrap();
            let txn = store.begin_write().unwrap();
            store.write_tree(&txn, &tree).unwrap();
            let root = soru_tree::TreeAccess::root_hash(&mut tree.clone());
            store.set_root(&txn, "pvm", root).unwrap();
            txn.commit().unwrap();
            root
        };
        drop(p);
        let store = NodeStore::open(dir.path().join("store.redb")).unwrap();
        let tree = store.open_tree(root).unwrap();
        let mut reloaded = Pvm::from_tree(tree).unwrap();
        assert_eq!(reloaded.state_hash().unwrap(), hash_before, "pause {pause}");
        reloaded.run_until_input(u128::MAX).unwrap();
        run_levels(&mut reloaded, 3, 3);
        assert_eq!(reloaded.state_hash().unwrap(), expected, "pause {pause}");
    }
}

#[test]
fn a_corrupt_state_is_an_error() {
    let mut tree = soru_tree::Tree::new();
    soru_tree::TreeAccess::set_value(&mut tree, b"pvm/meta", b"\xff\xff").unwrap();
    assert!(Pvm::from_tree(tree).is_err());
    assert!(Pvm::from_tree(soru_tree::Tree::new()).is_err());
}
