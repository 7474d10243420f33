//! The core of one-step proofs at the WebAssembly level: for states taken at
//! random ticks of wasm-smith programs, the chunks the next tick touches are
//! recorded on the full state; a partial state rebuilt from exactly those
//! chunks runs the same tick without needing anything else, and the chunks
//! it writes encode to the same bytes as the full run's.

mod common;

use std::collections::BTreeMap;

use soru_wasm::exec::{Machine, Outcome};
use soru_wasm::layout::{all_chunks, encode_chunk, load_chunks, ChunkRecorder, PresenceCheck};
use soru_wasm::Store;

/// Runs the tick on both the full and the rebuilt partial state and
/// compares. Returns false when the machine is no longer runnable.
fn check_tick(store: &Store, machine: &Machine, label: &str) -> bool {
    // Record what the tick touches on a copy of the full state.
    let (mut full_store, mut full_machine) = (store.clone(), machine.clone());
    let mut recorder = ChunkRecorder::default();
    let mut fuel = 1;
    let Ok(full_outcome) = full_machine.run_with(&mut full_store, &mut fuel, &mut recorder) else {
        return false;
    };
    let touched = recorder.touched();
    let mut chunks = BTreeMap::new();
    for &c in &touched {
        chunks.insert(c, encode_chunk(store, machine, c));
    }
    chunks.insert(
        soru_wasm::hooks::Chunk::Registers,
        encode_chunk(store, machine, soru_wasm::hooks::Chunk::Registers),
    );
    let (mut partial_store, mut partial_machine) = load_chunks(&chunks).expect("chunks load");
    let mut check = PresenceCheck {
        present: chunks.keys().copied().collect(),
        ..Default::default()
    };
    let mut fuel = 1;
    let partial_outcome = partial_machine
        .run_with(&mut partial_store, &mut fuel, &mut check)
        .expect("runnable");
    assert!(
        !matches!(partial_outcome, Outcome::Missing(_)),
        "{label}: the partial state lacked a chunk: {partial_outcome:?} (touched {touched:?})"
    );
    match (&full_outcome, &partial_outcome) {
        (Outcome::HostCall { args: a, .. }, Outcome::HostCall { args: b, .. }) => assert_eq!(a, b, "{label}"),
        (a, b) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "{label}: {a:?} vs {b:?}"
        ),
    }
    for c in recorder
        .written
        .iter()
        .chain(std::iter::once(&soru_wasm::hooks::Chunk::Registers))
    {
        assert_eq!(
            encode_chunk(&full_store, &full_machine, *c),
            encode_chunk(&partial_store, &partial_machine, *c),
            "{label}: chunk {c:?} differs after the tick"
        );
    }
    matches!(full_outcome, Outcome::OutOfTicks)
}

#[test]
fn a_tick_replays_from_its_chunks_alone() {
    let mut ticks_checked = 0;
    for seed in 0..400 {
        let Some(bytes) = common::smith_module(seed) else {
            continue;
        };
        let Ok(inst) = common::soru_instantiate(&bytes, 20_000) else {
            continue;
        };
        for (name, func) in common::exported_funcs(&inst) {
            let params = inst.store.func_type(func).params.len();
            let mut store = inst.store.clone();
            let Ok(mut machine) = Machine::invoke(&store, func, &vec![3; params]) else {
                continue;
            };
            // Check the first ticks, then every 97th up to 3 000.
            for t in 0..3_000u32 {
                if t < 40 || t % 97 == 0 {
                    if !check_tick(&store, &machine, &format!("seed {seed} {name} tick {t}")) {
                        break;
                    }
                    ticks_checked += 1;
                }
                let mut fuel = 1;
                match machine.run(&mut store, &mut fuel) {
                    Ok(Outcome::OutOfTicks) => {}
                    _ => break,
                }
            }
        }
    }
    assert!(ticks_checked > 5_000, "{ticks_checked}");
}

#[test]
fn a_whole_state_round_trips_through_its_chunks() {
    for seed in 0..100 {
        let Some(bytes) = common::smith_module(seed) else {
            continue;
        };
        let Ok(inst) = common::soru_instantiate(&bytes, 20_000) else {
            continue;
        };
        let Some((_, func)) = common::exported_funcs(&inst).into_iter().next() else {
            continue;
        };
        let mut store = inst.store.clone();
        let params = store.func_type(func).params.len();
        let mut machine = Machine::invoke(&store, func, &vec![1; params]).unwrap();
        let mut fuel = 500;
        let _ = machine.run(&mut store, &mut fuel);
        let chunks: BTreeMap<_, _> = all_chunks(&store, &machine)
            .into_iter()
            .map(|c| (c, encode_chunk(&store, &machine, c)))
            .collect();
        let (s2, m2) = load_chunks(&chunks).unwrap();
        for c in all_chunks(&store, &machine) {
            assert_eq!(
                encode_chunk(&store, &machine, c),
                encode_chunk(&s2, &m2, c),
                "seed {seed} {c:?}"
            );
        }
    }
}

/// A partial state's stand-ins are dense vectors sized by what its chunks
/// claim; chunks no execution within soru's limits has (a forged proof's)
/// are refused instead of making the loader allocate without bound.
#[test]
fn chunks_beyond_the_limits_are_refused() {
    use soru_wasm::hooks::Chunk;
    use soru_wasm::layout::{func_record, FUNC_RECORD};
    use soru_wasm::store::FuncInst;

    fn registers(stack_len: u64, frames_len: u64) -> Vec<u8> {
        // The registers chunk of a fresh entry, with other lengths.
        let mut bytes = soru_wasm::layout::entry_registers(0);
        let n = bytes.len();
        // Lengths are the last two fields (postcard varints of 0 here).
        assert_eq!(&bytes[n - 2..], &[0, 0]);
        bytes.truncate(n - 2);
        for v in [stack_len, frames_len] {
            let mut v = v;
            while v >= 0x80 {
                bytes.push(v as u8 | 0x80);
                v >>= 7;
            }
            bytes.push(v as u8);
        }
        bytes
    }
    let load = |chunk: Chunk, bytes: Vec<u8>| load_chunks(&BTreeMap::from([(chunk, bytes)]));
    // Within the limits, a far but empty chunk (an out-of-bounds access) loads.
    assert!(load(Chunk::Registers, registers(1_000, 10)).is_ok());
    assert!(load(
        Chunk::Table {
            table: 0,
            index: 1 << 30
        },
        Vec::new()
    )
    .is_ok());
    let refused = [
        (Chunk::Registers, registers(1 << 40, 0)),
        (Chunk::Registers, registers(0, 1 << 40)),
        (
            Chunk::Code {
                instance: 0,
                index: 1 << 30,
            },
            vec![0; 20],
        ),
        (
            Chunk::Code {
                instance: u32::MAX,
                index: 0,
            },
            Vec::new(),
        ),
        (Chunk::Stack { index: 1 << 40 }, vec![0; 8]),
        (
            Chunk::Instance {
                instance: 0,
                index: 1 << 30,
            },
            vec![0; 4],
        ),
        (Chunk::Globals { index: 1 << 30 }, vec![0; 10]),
        (
            Chunk::Table {
                table: 0,
                index: 1 << 30,
            },
            vec![0; 8],
        ),
        (
            Chunk::TableSize { table: 0 },
            postcard::to_stdvec(&(1u64 << 40, None::<u8>)).unwrap(),
        ),
        (
            Chunk::MemorySize { mem: 0 },
            postcard::to_stdvec(&(u32::MAX, None::<u32>)).unwrap(),
        ),
        (
            Chunk::Elem {
                elem: 0,
                index: u64::MAX,
            },
            postcard::to_stdvec(&Some(1u64 << 40)).unwrap(),
        ),
        (
            Chunk::Data {
                data: 0,
                index: u64::MAX,
            },
            postcard::to_stdvec(&Some(1u64 << 40)).unwrap(),
        ),
        (Chunk::Func { func: u32::MAX }, vec![0; FUNC_RECORD]),
        (
            Chunk::Func { func: 0 },
            func_record(
                &FuncInst::Wasm {
                    instance: u32::MAX,
                    body: 0,
                    type_id: 0,
                },
                None,
            )
            .to_vec(),
        ),
        (Chunk::Type { id: u32::MAX }, vec![0, 0]),
    ];
    for (chunk, bytes) in refused {
        assert!(load(chunk, bytes).is_err(), "{chunk:?} loaded");
    }
}
