//! The inbox's hashes and proofs: hashes computed independently from the
//! Octez sources' rules; proofs produced for random inboxes (empty levels,
//! 4 096-byte messages, a migration level) verify to the right input at
//! every counter, survive their byte encoding, and every alteration is
//! refused with its named error.

use rand::{Rng, SeedableRng};
use soru_core::inbox::InfoPerLevel;
use soru_core::time::Timestamp;
use soru_core::BlockHash;
use soru_protocol::inbox::{
    history_cell_hash, message_hash, HistoryCell, InboxArchive, InboxError, LevelProof, LevelWitness,
    MAX_MESSAGES_PER_LEVEL,
};
use soru_protocol::inbox_proof::{produce, verify, InboxProof, InboxProofError, ProvenInput};
use soru_protocol::skip_list::Cell;

fn info(level: u32) -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(1_700_000_000 + i64::from(level) * 8),
        predecessor: BlockHash([level as u8; 32]),
    }
}

fn zero_info() -> InfoPerLevel {
    InfoPerLevel {
        predecessor_timestamp: Timestamp::from_seconds(0),
        predecessor: BlockHash([0; 32]),
    }
}

fn h(hex_str: &str) -> [u8; 32] {
    hex::decode(hex_str).unwrap().try_into().unwrap()
}

/// Values computed by a separate implementation of the same rules
/// (PROTOCOL-FACTS §3.3 and the Octez sources it cites).
#[test]
fn hashes_match_the_independent_computation() {
    assert_eq!(
        message_hash(&[0, 1]),
        h("01cf79da4945c370c68b265ef70641aaa65eaa8f5953e3900d97724c2c5aa095")
    );
    assert_eq!(
        message_hash(&[0, 2]),
        h("8f1f9fd0816a310a79d0e0c4bf605a544c260c561740bcdeb175ea46f5312890")
    );
    let ipl = {
        let mut m = vec![0, 3];
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&[0; 32]);
        m
    };
    let mut level = LevelWitness::start();
    level.add_message(ipl.clone()).unwrap();
    level.add_message(b"\x01hello".to_vec()).unwrap();
    level.add_message(vec![0, 2]).unwrap();
    let head = h("5e4ce508f975c08bebde554681f99a2217dc578450bc3dfde9f9ea1abf6cee07");
    assert_eq!(level.head_hash(), head);
    let mut short = LevelWitness::start();
    short.add_message(ipl).unwrap();
    short.add_message(vec![0, 2]).unwrap();
    assert_eq!(
        short.head_hash(),
        h("4903aa127f907fc092102388cee9b30661341e8423caba1488f78cb8a0346a5f")
    );

    let genesis: HistoryCell = Cell::genesis(LevelProof { hash: head, level: 5 });
    let genesis_hash = history_cell_hash(&genesis);
    assert_eq!(
        genesis_hash,
        h("2568397c331015c53bad972084ef671923184e0bc9d1b8d5a31712d42ac34c47")
    );
    let next = Cell::next(&genesis, genesis_hash, LevelProof { hash: head, level: 6 });
    assert_eq!(
        history_cell_hash(&next),
        h("ed182c3052b60c3254ab97c2c5c8959f63a60cfaf45eb4df8233b98fc28028e8")
    );
}

/// An archive from level 100 with `levels` random levels; returns it and
/// each level's messages (as given, without SOL/IPL/EOL).
fn random_archive(seed: u64, levels: u32) -> (InboxArchive, Vec<Vec<Vec<u8>>>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut archive = InboxArchive::genesis(100, info(100), b"\x00\x04\x00\x00\x00\x0dalpha_current").unwrap();
    let mut all = Vec::new();
    for level in 101..101 + levels {
        let count = match rng.gen_range(0..4) {
            0 => 0,
            1 => rng.gen_range(1..4),
            _ => rng.gen_range(1..70),
        };
        let messages: Vec<Vec<u8>> = (0..count)
            .map(|_| {
                let len = if rng.gen_ratio(1, 10) {
                    4095
                } else {
                    rng.gen_range(0..200)
                };
                let mut m = vec![1u8];
                m.extend((0..len).map(|_| rng.gen::<u8>()));
                m
            })
            .collect();
        let migration: Option<&[u8]> = (level == 105).then_some(b"\x00\x04\x00\x00\x00\x03new");
        archive.add_level(info(level), migration, &messages).unwrap();
        all.push(messages);
    }
    (archive, all)
}

/// What the PVM reads at `(level, counter)`, from the archive's own record.
fn expected(archive: &InboxArchive, snapshot: &HistoryCell, level: u32, counter: u64) -> Option<ProvenInput> {
    let messages = archive.level_messages(level).unwrap();
    match messages.get(counter as usize) {
        Some(payload) => Some(ProvenInput {
            level,
            counter,
            payload: payload.clone(),
        }),
        None if level == snapshot.content.level => None,
        None => Some(ProvenInput {
            level: level + 1,
            counter: 0,
            payload: vec![0, 1],
        }),
    }
}

#[test]
fn proofs_of_random_inboxes_verify_at_every_counter() {
    for seed in 0..4 {
        let (archive, _) = random_archive(seed, 40);
        let snapshot = archive.inbox().snapshot();
        let mut proofs = 0;
        for level in 100..=snapshot.content.level {
            let count = archive.level_messages(level).unwrap().len() as u64;
            for counter in 0..=count {
                let (proof, input) = produce(&archive, &snapshot, level, counter).unwrap();
                let want = expected(&archive, &snapshot, level, counter);
                assert_eq!(input, want, "seed {seed} level {level} counter {counter}");
                let bytes = proof.to_bytes();
                let decoded = InboxProof::from_bytes(&bytes).unwrap();
                assert_eq!(decoded, proof);
                assert_eq!(verify(&snapshot, level, counter, &decoded), Ok(want));
                proofs += 1;
            }
            assert!(matches!(
                produce(&archive, &snapshot, level, count + 1),
                Err(InboxProofError::CounterOutOfRange { .. })
            ));
        }
        assert!(proofs > 500, "{proofs}");
    }
}

#[test]
fn an_older_snapshot_proves_against_its_own_history() {
    let (mut archive, _) = random_archive(9, 12);
    let old = archive.inbox().snapshot();
    let old_level = old.content.level;
    archive
        .add_level(info(old_level + 1), None, &[b"\x01later".to_vec()])
        .unwrap();
    // The old snapshot's last level now ends its inbox: nothing after it.
    let count = archive.level_messages(old_level).unwrap().len() as u64;
    let (proof, input) = produce(&archive, &old, old_level, count).unwrap();
    assert_eq!(input, None);
    assert_eq!(verify(&old, old_level, count, &proof), Ok(None));
    // The new snapshot goes on to the next level.
    let new = archive.inbox().snapshot();
    let (proof, input) = produce(&archive, &new, old_level, count).unwrap();
    assert_eq!(input.as_ref().map(|i| (i.level, i.counter)), Some((old_level + 1, 0)));
    assert_eq!(verify(&new, old_level, count, &proof), Ok(input));
    // A proof made for one snapshot does not verify against the other.
    assert_eq!(
        verify(&old, old_level, count, &proof),
        Err(InboxProofError::InvalidInclusionProof)
    );
    assert!(
        produce(&archive, &old, old_level + 1, 0).is_err(),
        "a level after the snapshot"
    );
}

#[test]
fn altered_proofs_are_refused_with_their_error() {
    let (archive, _) = random_archive(3, 30);
    let snapshot = archive.inbox().snapshot();
    // A level with messages, deep enough for multi-step paths.
    let level = (101..=snapshot.content.level)
        .find(|&l| archive.level_messages(l).unwrap().len() > 20)
        .expect("a busy level");
    let (proof, _) = produce(&archive, &snapshot, level, 7).unwrap();

    let mut p = proof.clone();
    p.message_proof.payload.as_mut().unwrap()[0] ^= 1;
    assert_eq!(
        verify(&snapshot, level, 7, &p),
        Err(InboxProofError::PayloadHashMismatch)
    );

    let mut p = proof.clone();
    p.message_proof.payload = None;
    assert_eq!(verify(&snapshot, level, 7, &p), Err(InboxProofError::ExpectedPayload));

    assert_eq!(
        verify(&snapshot, level, 8, &proof),
        Err(InboxProofError::WrongMessageIndex { found: 7, expected: 8 })
    );
    assert_eq!(
        verify(&snapshot, level, 10_000, &proof),
        Err(InboxProofError::CounterOutOfRange {
            counter: 10_000,
            max_index: archive.level_messages(level).unwrap().len() as u64 - 1
        })
    );

    let mut p = proof.clone();
    p.inclusion_proof.clear();
    assert_eq!(
        verify(&snapshot, level, 7, &p),
        Err(InboxProofError::EmptyInclusionProof)
    );

    let mut p = proof.clone();
    if p.inclusion_proof.len() > 2 {
        p.inclusion_proof.remove(1);
        assert_eq!(
            verify(&snapshot, level, 7, &p),
            Err(InboxProofError::InvalidInclusionProof)
        );
    }

    let mut p = proof.clone();
    p.message_proof.proof.clear();
    assert_eq!(verify(&snapshot, level, 7, &p), Err(InboxProofError::EmptyMessageProof));

    let mut p = proof.clone();
    let last = p.message_proof.proof.len() - 1;
    p.message_proof.proof.remove(last);
    assert!(verify(&snapshot, level, 7, &p).is_err());

    // Another level's message proof under this level's inclusion proof.
    let (other, _) = produce(&archive, &snapshot, level - 1, 0).unwrap();
    let mut p = proof.clone();
    p.message_proof = other.message_proof;
    assert_eq!(
        verify(&snapshot, level, 0, &p),
        Err(InboxProofError::MessageProofDoesNotMatchHistory)
    );

    // "No more messages" with a payload, or with more than the head cell.
    let count = archive.level_messages(level).unwrap().len() as u64;
    let (end, _) = produce(&archive, &snapshot, level, count).unwrap();
    let mut p = end.clone();
    p.message_proof.payload = Some(vec![0, 1]);
    assert_eq!(
        verify(&snapshot, level, count, &p),
        Err(InboxProofError::PayloadProvidedButNoneExpected)
    );
    let mut p = end.clone();
    p.message_proof.proof = proof.message_proof.proof.clone();
    p.message_proof.payload = None;
    assert_eq!(
        verify(&snapshot, level, count, &p),
        Err(InboxProofError::InvalidMessageProof)
    );

    // Every single-byte change of a hash or payload byte is refused; a
    // change anywhere never proves a different input.
    let bytes = proof.to_bytes();
    let want = verify(&snapshot, level, 7, &proof).unwrap();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80] {
            let mut altered = bytes.clone();
            altered[i] ^= flip;
            if let Ok(p) = InboxProof::from_bytes(&altered) {
                if let Ok(got) = verify(&snapshot, level, 7, &p) {
                    assert_eq!(got, want, "byte {i} ^ {flip:#x} proved another input");
                }
            }
        }
    }
    assert!(
        InboxProof::from_bytes(&[bytes.as_slice(), &[0]].concat()).is_err(),
        "trailing byte"
    );
    assert!(InboxProof::from_bytes(&bytes[..bytes.len() - 1]).is_err(), "cut short");
}

#[test]
fn level_limits() {
    let mut level = LevelWitness::start();
    assert_eq!(level.add_messages(&[]), Err(InboxError::TriedToAddZeroMessages));
    assert_eq!(
        level.add_messages(&[vec![1; 4097]]),
        Err(InboxError::MessageTooLarge(4097))
    );
    level.add_messages(&[vec![1; 4096]]).unwrap();
    assert_eq!(level.last_index(), 1);
    // A batch that would pass the per-level limit adds nothing.
    let batch = vec![vec![1u8]; MAX_MESSAGES_PER_LEVEL as usize + 1];
    assert_eq!(level.add_messages(&batch), Err(InboxError::LevelReachedMessagesLimit));
    assert_eq!(level.last_index(), 1);
    level.add_messages(&batch[..MAX_MESSAGES_PER_LEVEL as usize]).unwrap();
    assert_eq!(level.last_index(), MAX_MESSAGES_PER_LEVEL + 1);
    assert_eq!(level.add_message(vec![1]), Err(InboxError::LevelReachedMessagesLimit));
}

#[test]
fn the_genesis_inbox_and_its_encoding() {
    let archive = InboxArchive::genesis(7, zero_info(), b"\x00\x04\x00\x00\x00\x0dalpha_current").unwrap();
    let inbox = archive.inbox();
    assert_eq!((inbox.level, inbox.old_levels_messages.index), (7, 0));
    let bytes = inbox.to_bytes();
    // 00 ‖ level ‖ index 0 ‖ level hash ‖ level ‖ no back pointers.
    assert_eq!(bytes.len(), 1 + 4 + 1 + 32 + 4 + 4);
    assert_eq!(&bytes[..6], &[0, 0, 0, 0, 7, 0]);
    assert_eq!(archive.level_messages(7).unwrap().len(), 4, "SOL, IPL, migration, EOL");
    assert!(InboxArchive::genesis(u32::MAX, zero_info(), b"").is_err());
}

#[test]
fn prepared_levels_and_archives_joining_late() {
    let (mut archive, _) = random_archive(5, 6);
    let inbox = archive.inbox().clone();
    assert_eq!(
        soru_protocol::inbox::Inbox::from_bytes(&inbox.to_bytes()),
        Ok(inbox.clone())
    );
    assert!(soru_protocol::inbox::Inbox::from_bytes(&[1, 0, 0, 0, 0]).is_err());

    // A node joining now: same hashes from here on.
    let mut late = InboxArchive::from_inbox(inbox);
    let prepared = late.prepare_level(info(200), None, &[b"\x01x".to_vec()]).unwrap();
    let stale = archive.prepare_level(info(200), None, &[b"\x01y".to_vec()]).unwrap();
    assert_eq!(
        prepared.inbox().hash(),
        archive
            .prepare_level(info(200), None, &[b"\x01x".to_vec()])
            .unwrap()
            .inbox()
            .hash()
    );
    let hash = late.commit_level(prepared).unwrap();
    assert_eq!(hash, archive.add_level(info(200), None, &[b"\x01x".to_vec()]).unwrap());
    assert_eq!(archive.commit_level(stale), Err(InboxError::StalePreparedLevel));
    // Its own levels are provable.
    let snapshot = late.inbox().snapshot();
    let level = snapshot.content.level;
    let (proof, input) = produce(&late, &snapshot, level, 2).unwrap();
    assert_eq!(verify(&snapshot, level, 2, &proof).unwrap(), input);
}
