//! A decoder whose state lives in a store behaves exactly like one in
//! memory: driven step by step with its serialized header round-tripped
//! every step (as the PVM keeps it in its state tree), it takes the same
//! steps, reaches the same verdict, builds the same module, and leaves the
//! store exactly as the in-memory decoder's regions would be saved.

mod common;

use std::collections::BTreeMap;

use soru_wasm::decode::Progress;
use soru_wasm::region::{DecodeStore, RegionId};
use soru_wasm::{Decoder, Mode};

/// A store in memory, counting what a step reads.
#[derive(Default, Clone, PartialEq, Eq, Debug)]
struct MemStore {
    input: Vec<u8>,
    regions: BTreeMap<RegionId, Vec<u8>>,
    names: BTreeMap<Vec<u8>, u32>,
    read_bytes: u64,
}

impl DecodeStore for MemStore {
    fn input_len(&mut self) -> Result<u64, String> {
        Ok(self.input.len() as u64)
    }
    fn input(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let from = (offset as usize).min(self.input.len());
        let to = from.saturating_add(len).min(self.input.len());
        self.read_bytes += (to - from) as u64;
        Ok(self.input[from..to].to_vec())
    }
    fn read(&mut self, region: RegionId, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let bytes = self.regions.get(&region).ok_or("no such region")?;
        let from = (offset as usize).min(bytes.len());
        let to = from.saturating_add(len).min(bytes.len());
        self.read_bytes += (to - from) as u64;
        Ok(bytes[from..to].to_vec())
    }
    fn write(&mut self, region: RegionId, offset: u64, data: &[u8]) -> Result<(), String> {
        let bytes = self.regions.entry(region).or_default();
        let end = offset as usize + data.len();
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[offset as usize..end].copy_from_slice(data);
        Ok(())
    }
    fn resize(&mut self, region: RegionId, len: u64) -> Result<(), String> {
        if len == 0 {
            self.regions.remove(&region);
        } else {
            self.regions.entry(region).or_default().resize(len as usize, 0);
        }
        Ok(())
    }
    fn insert_name(&mut self, name: &[u8], index: u32) -> Result<bool, String> {
        if self.names.contains_key(name) {
            return Ok(false);
        }
        self.names.insert(name.to_vec(), index);
        Ok(true)
    }
    fn lookup_name(&mut self, name: &[u8]) -> Result<Option<u32>, String> {
        Ok(self.names.get(name).copied())
    }
}

fn roundtrip(d: &Decoder) -> Decoder {
    postcard::from_bytes(&postcard::to_stdvec(d).expect("serializes")).expect("deserializes")
}

/// Runs both decoders to the end, comparing them every `every` steps.
/// Returns the number of steps and the most bytes one stored step read.
fn compare(bytes: &[u8], every: u64) -> (u64, u64) {
    let mut owned = Decoder::new(Mode::Pvm);
    let mut stored = roundtrip(&Decoder::new(Mode::Pvm));
    assert!(stored.is_stored());
    let mut store = MemStore {
        input: bytes.to_vec(),
        ..MemStore::default()
    };
    let (mut steps, mut most_read) = (0u64, 0u64);
    loop {
        let a = owned.step(bytes);
        store.read_bytes = 0;
        let b = stored.step_stored(&mut store);
        most_read = most_read.max(store.read_bytes);
        steps += 1;
        assert_eq!(a, b, "verdict of step {steps}");
        stored = roundtrip(&stored);
        if steps % every == 0 || a != Ok(Progress::Continue) {
            assert_eq!(
                postcard::to_stdvec(&owned).unwrap(),
                postcard::to_stdvec(&stored).unwrap(),
                "headers after step {steps}"
            );
            let mut saved = MemStore {
                input: bytes.to_vec(),
                ..MemStore::default()
            };
            owned.save(&mut saved).expect("saves");
            assert_eq!(saved.regions, store.regions, "regions after step {steps}");
            assert_eq!(saved.names, store.names, "export names after step {steps}");
            // And a stored decoder read back into memory carries on alike.
            let mut loaded = roundtrip(&stored);
            loaded.load(&mut store.clone()).expect("loads");
            assert!(!loaded.is_stored());
            assert_eq!(
                postcard::to_stdvec(&loaded).unwrap(),
                postcard::to_stdvec(&owned).unwrap()
            );
        }
        match a {
            Ok(Progress::Continue) => {}
            Ok(Progress::Done) => {
                let module = roundtrip(&stored).finish_stored(&mut store).expect("builds");
                assert_eq!(module, owned.clone().finish());
                // Left in its regions, the module is the same whichever
                // decoder leaves it, and finds its exports by name.
                let mut saved = MemStore {
                    input: bytes.to_vec(),
                    ..MemStore::default()
                };
                let from_owned = owned.into_stored_module(&mut saved).expect("saves");
                let from_stored = stored.into_stored_module(&mut store).expect("keeps");
                assert_eq!(saved.regions, store.regions);
                assert_eq!(saved.names, store.names);
                assert_eq!(
                    postcard::to_stdvec(&from_owned).unwrap(),
                    postcard::to_stdvec(&from_stored).unwrap()
                );
                for export in &module.exports {
                    let found = from_stored.export(&mut store, &export.name).expect("reads");
                    assert_eq!(found.as_ref(), Some(export));
                }
                assert_eq!(from_stored.export(&mut store, "no such export"), Ok(None));
                for region in [RegionId::Locals, RegionId::Stack, RegionId::Ctrls, RegionId::Refs] {
                    assert!(!store.regions.contains_key(&region), "{region:?} left behind");
                }
                return (steps, most_read);
            }
            Err(_) => return (steps, most_read),
        }
    }
}

#[test]
fn stored_decoder_matches_in_memory_decoder_on_generated_modules() {
    let mut decoded = 0;
    for seed in 0..300 {
        let Some(bytes) = common::smith_module(seed) else {
            continue;
        };
        compare(&bytes, 1);
        decoded += 1;
        // Damaged modules are rejected alike, at the same step.
        let mut damaged = bytes.clone();
        let at = (seed as usize * 7919) % damaged.len();
        damaged[at] ^= 0x5a;
        compare(&damaged, 1);
        compare(&bytes[..bytes.len() * 2 / 3], 1);
    }
    assert!(decoded > 200, "only {decoded} modules generated");
}

/// A module with a big function: many locals, a long `br_table`, a block
/// with many forward branches, deep nesting and a big data segment.
fn stress_module() -> Vec<u8> {
    use common::leb;
    fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len() as u64, out);
        out.extend_from_slice(body);
    }
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    section(1, &[1, 0x60, 1, 0x7f, 0], &mut m); // (i32) -> ()
    section(3, &[1, 0], &mut m);
    section(5, &[1, 0, 1], &mut m);
    let mut code = Vec::new();
    code.push(1); // one local declaration: 20 000 i32
    leb(20_000, &mut code);
    code.push(0x7f);
    code.extend([0x02, 0x40]); // block
    for _ in 0..100 {
        code.extend([0x02, 0x40]); // nested blocks
    }
    for depth in 0..300u64 {
        code.extend([0x20, 0x00, 0x0d]); // local.get 0; br_if depth % 101
        leb(depth % 101, &mut code);
    }
    code.extend([0x20, 0x00, 0x0e]); // br_table with 1 000 entries
    leb(1_000, &mut code);
    for i in 0..1_000u64 {
        leb(i % 101, &mut code);
    }
    leb(0, &mut code);
    code.extend([0x0b; 102]); // the blocks' ends and the function's
    let mut body = Vec::new();
    leb(code.len() as u64, &mut body);
    body.extend(code);
    let mut code_section = vec![1];
    code_section.extend(body);
    section(10, &code_section, &mut m);
    let mut data = vec![1, 0, 0x41, 0, 0x0b];
    leb(20_000, &mut data);
    data.extend((0..20_000u32).map(|i| (i * 31) as u8));
    section(11, &data, &mut m);
    m
}

#[test]
fn stored_decoder_matches_on_a_stress_module_and_reads_little_per_step() {
    let bytes = stress_module();
    Decoder::decode(Mode::Pvm, &bytes).expect("the stress module is valid");
    let (steps, most_read) = compare(&bytes, 97);
    eprintln!("stress module: {steps} steps, most read {most_read}");
    assert!(steps > 1_000, "{steps} steps");
    // No step reads more than a data slice, its input and a few records.
    assert!(most_read <= 16 * 1024, "a step read {most_read} bytes");
}
