//! One-step proofs of machine ticks: for states at many ticks of wasm-smith
//! programs and of bulk-memory programs, the proof verifies against the
//! before-state root and yields exactly the root of the true after-state
//! (written from scratch); altered proofs and dropped chunks are rejected.
//! Prints proof-size percentiles.

mod common;

use soru_pvm::machine_proof::{prove_tick, verify_tick, write_machine, MachineProof};
use soru_tree::Tree;
use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::store::Extern;
use soru_wasm::{Decoder, Mode, Store};

fn smith(seed: u64) -> Option<Vec<u8>> {
    let data = common::random_bytes(seed, 16 * 1024);
    let config = wasm_smith::Config {
        max_imports: 0,
        export_everything: true,
        min_funcs: 1,
        max_funcs: 20,
        max_instructions: 200,
        ..common::pvm_smith_config()
    };
    let mut u = arbitrary::Unstructured::new(&data);
    wasm_smith::Module::new(config, &mut u).ok().map(|m| m.to_bytes())
}

fn instantiate(bytes: &[u8]) -> Option<(Store, u32)> {
    let module = std::sync::Arc::new(Decoder::decode(Mode::Pvm, bytes).ok()?);
    if module.start.is_some() {
        return None;
    }
    let mut store = Store::default();
    let inst = store.allocate(module, &[]).ok()?;
    Machine::initialize(&mut store, inst).ok()?;
    Some((store, inst))
}

fn tree_of(store: &Store, machine: &Machine) -> Tree {
    let mut tree = Tree::new();
    write_machine(&mut tree, store, machine).expect("written");
    tree
}

/// Proves and verifies the next tick; returns the proof size.
fn check(store: &Store, machine: &Machine, label: &str, tamper: bool) -> usize {
    let tree = tree_of(store, machine);
    let before = tree.root_hash();
    let (proof, after) = prove_tick(tree, store, machine).expect("proved");
    assert_eq!(verify_tick(&proof, before).expect(label), after, "{label}");
    let (mut s, mut m) = (store.clone(), machine.clone());
    let mut fuel = 1;
    let _ = m.run(&mut s, &mut fuel);
    assert_eq!(
        tree_of(&s, &m).root_hash(),
        after,
        "{label}: the proved after-state is not the real one"
    );
    if tamper {
        let bytes = proof.tree.as_bytes();
        for i in (0..bytes.len()).step_by(bytes.len() / 24 + 1) {
            let mut bad = bytes.to_vec();
            bad[i] ^= 0x20;
            let bad = MachineProof {
                tree: soru_tree::Proof::from_bytes(bad),
                chunks: proof.chunks.clone(),
            };
            assert_ne!(
                verify_tick(&bad, before).ok(),
                Some(after),
                "{label}: byte {i} altered and accepted"
            );
        }
        for drop in 0..proof.chunks.len() {
            let mut fewer = proof.clone();
            let dropped = fewer.chunks.remove(drop);
            if dropped == soru_wasm::hooks::Chunk::Registers {
                continue;
            }
            assert_ne!(
                verify_tick(&fewer, before).ok(),
                Some(after),
                "{label}: chunk {dropped:?} dropped and accepted"
            );
        }
    }
    proof.size()
}

fn report(name: &str, sizes: &mut [usize]) {
    sizes.sort_unstable();
    let p = |q: usize| sizes[(sizes.len() - 1) * q / 100];
    println!(
        "{name}: machine proof bytes over {} ticks: p50 {} p90 {} max {}",
        sizes.len(),
        p(50),
        p(90),
        sizes[sizes.len() - 1]
    );
}

#[test]
fn machine_ticks_prove_and_verify() {
    let mut sizes = Vec::new();
    for seed in 0..150 {
        let Some(bytes) = smith(seed) else { continue };
        let Some((store0, inst)) = instantiate(&bytes) else {
            continue;
        };
        let funcs: Vec<u32> = store0.instances[inst as usize].funcs.clone();
        for func in funcs.into_iter().take(3) {
            let mut store = store0.clone();
            let params = store.func_type(func).params.len();
            let Ok(mut machine) = Machine::invoke(&store, func, &vec![2; params]) else {
                continue;
            };
            for t in 0..400u32 {
                if t < 8 || t % 37 == 0 {
                    let label = format!("seed {seed} func {func} tick {t}");
                    sizes.push(check(&store, &machine, &label, t % 74 == 0));
                }
                let mut fuel = 1;
                if !matches!(machine.run(&mut store, &mut fuel), Ok(Outcome::OutOfTicks)) {
                    break;
                }
            }
        }
    }
    assert!(sizes.len() > 500, "{}", sizes.len());
    report("wasm-smith", &mut sizes);
}

#[test]
fn bulk_and_memory_heavy_ticks_prove() {
    let wat = r#"(module (memory 4) (table 600 funcref)
      (func $f)
      (elem declare func $f)
      (func (export "run") (local i32)
        (memory.fill (i32.const 100) (i32.const 7) (i32.const 10000))
        (memory.copy (i32.const 50000) (i32.const 90) (i32.const 9000))
        (i64.store (i32.const 262136) (i64.const -1))
        (drop (memory.grow (i32.const 2)))
        (drop (table.grow (ref.func $f) (i32.const 300)))
        (table.fill (i32.const 10) (ref.func $f) (i32.const 500))
        (local.set 0 (i32.const 5))))"#;
    let bytes = wat::parse_str(wat).unwrap();
    let (mut store, inst) = instantiate(&bytes).unwrap();
    let Some(Extern::Func(f)) = store.export(inst, "run") else {
        panic!("no run")
    };
    let mut machine = Machine::invoke(&store, f, &[]).unwrap();
    let mut sizes = Vec::new();
    loop {
        sizes.push(check(&store, &machine, "bulk", true));
        let mut fuel = 1;
        if !matches!(machine.run(&mut store, &mut fuel), Ok(Outcome::OutOfTicks)) {
            break;
        }
    }
    report("bulk program", &mut sizes);
    assert!(sizes[sizes.len() - 1] < 16_384);
}

#[test]
fn a_machine_reads_back_from_its_tree() {
    use soru_pvm::machine_proof::read_machine;
    use soru_wasm::layout::{all_chunks, encode_chunk};
    let mut checked = 0;
    for seed in 0..120 {
        let Some(bytes) = smith(seed) else { continue };
        let Some((mut store, inst)) = instantiate(&bytes) else {
            continue;
        };
        let Some(&func) = store.instances[inst as usize].funcs.first() else {
            continue;
        };
        let params = store.func_type(func).params.len();
        let mut machine = Machine::invoke(&store, func, &vec![1; params]).unwrap();
        let mut fuel = 300;
        let _ = machine.run(&mut store, &mut fuel);
        let mut tree = tree_of(&store, &machine);
        let (s2, m2) = read_machine(&mut tree).expect("reads back");
        for c in all_chunks(&store, &machine) {
            assert_eq!(
                encode_chunk(&store, &machine, c),
                encode_chunk(&s2, &m2, c),
                "seed {seed} {c:?}"
            );
        }
        assert_eq!(tree_of(&s2, &m2).root_hash(), tree.root_hash(), "seed {seed}");
        checked += 1;
    }
    assert!(checked > 50);
}
