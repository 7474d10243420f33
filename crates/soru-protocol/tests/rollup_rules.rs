//! Origination, publish, cement and recover-bond rules: every rejection
//! with its named error, state unchanged after each, and the effects of
//! the accepted operations (bonds, candidates, dangling commitments, the
//! stored cemented commitments).

use soru_core::base58::{CommitmentHash, StateHash};
use soru_core::commitment::NumberOfTicks;
use soru_core::micheline::{Micheline, Prim};
use soru_core::params::{ProtocolParams, SmartRollupParams};
use soru_core::{Commitment, PublicKeyHash};
use soru_protocol::outbox::Access;
use soru_protocol::rollup::{
    rollup_address, validate_parameters_ty, BalanceUpdate, Context, PastCommitmentPeriod, RollupError, RollupState,
};

const STAKE: u64 = 10_000_000_000;

fn pkh(b: u8) -> PublicKeyHash {
    PublicKeyHash::ed25519([b; 20])
}

fn ty(name: &str, args: Vec<Micheline>) -> Micheline {
    Micheline::Prim {
        prim: Prim::from_name(name).unwrap(),
        args,
        annots: vec![],
    }
}

fn annotated(name: &str, args: Vec<Micheline>, annot: &str) -> Micheline {
    Micheline::Prim {
        prim: Prim::from_name(name).unwrap(),
        args,
        annots: vec![annot.into()],
    }
}

/// Period 10, challenge window 20, lookahead 100.
fn params() -> SmartRollupParams {
    let mut p = ProtocolParams::mainnet().smart_rollup;
    p.commitment_period_in_blocks = 10;
    p.challenge_window_in_blocks = 20;
    p.max_lookahead_in_blocks = 100;
    assert_eq!(p.stake_amount, STAKE);
    p
}

fn ctx(p: &SmartRollupParams, current_level: u32) -> Context<'_> {
    Context {
        current_level,
        params: p,
        past_periods: &[],
    }
}

/// A public rollup originated at level 100.
fn rollup(p: &SmartRollupParams) -> RollupState {
    RollupState::originate(&ctx(p, 100), &[5; 32], 0, StateHash([1; 32]), ty("bytes", vec![]), None)
        .unwrap()
        .rollup
}

fn commitment(level: u32, predecessor: CommitmentHash, state: u8) -> Commitment {
    Commitment {
        compressed_state: StateHash([state; 32]),
        inbox_level: level as i32,
        predecessor,
        number_of_ticks: NumberOfTicks::new(1_000).unwrap(),
    }
}

/// Asserts `op` fails with `error` and leaves `rollup` unchanged.
fn refused<T: std::fmt::Debug>(
    rollup: &mut RollupState,
    error: RollupError,
    op: impl FnOnce(&mut RollupState) -> Result<T, RollupError>,
) {
    let before = rollup.clone();
    assert_eq!(op(rollup).unwrap_err(), error);
    assert_eq!(*rollup, before, "state changed by a refused operation ({error})");
}

#[test]
fn origination() {
    let p = params();
    let origination = RollupState::originate(
        &ctx(&p, 100),
        &[5; 32],
        0,
        StateHash([1; 32]),
        ty("bytes", vec![]),
        None,
    )
    .unwrap();
    let genesis = origination.genesis_commitment;
    assert_eq!(
        (genesis.inbox_level, genesis.predecessor, genesis.number_of_ticks.get()),
        (100, CommitmentHash([0; 32]), 0)
    );
    let r = origination.rollup;
    assert_eq!(
        (r.lcc, r.genesis_commitment, r.genesis_level),
        (genesis.hash(), genesis.hash(), 100)
    );
    assert_eq!(r.address, rollup_address(&[5; 32], 0));
    assert_ne!(rollup_address(&[5; 32], 0), rollup_address(&[5; 32], 1));
    // blake2b-160 of hash ‖ index (int32 BE).
    let mut nonce = vec![5u8; 32];
    nonce.extend_from_slice(&[0, 0, 0, 7]);
    assert_eq!(rollup_address(&[5; 32], 7).0, soru_core::hash::blake2b_160(&nonce));

    let orig = |p: &SmartRollupParams, ty: Micheline, whitelist| {
        RollupState::originate(&ctx(p, 100), &[5; 32], 0, StateHash([1; 32]), ty, whitelist).map(|_| ())
    };
    for bad in [
        ty("mutez", vec![]),
        ty("big_map", vec![ty("int", vec![]), ty("int", vec![])]),
        ty("lambda", vec![ty("int", vec![]), ty("int", vec![])]),
        ty("operation", vec![]),
        ty("list", vec![ty("chest", vec![])]),
        ty("pair", vec![ty("int", vec![])]),
        ty(
            "or",
            vec![annotated("int", vec![], "%a"), annotated("nat", vec![], "%b")],
        ),
        Micheline::Int(1.into()),
    ] {
        assert!(
            matches!(orig(&p, bad.clone(), None), Err(RollupError::InvalidParametersType(_))),
            "{bad:?}"
        );
    }
    for good in [
        ty("pair", vec![ty("int", vec![]), ty("nat", vec![]), ty("bytes", vec![])]),
        ty("or", vec![ty("ticket", vec![ty("string", vec![])]), ty("unit", vec![])]),
        ty("contract", vec![ty("mutez", vec![])]),
        ty("map", vec![ty("string", vec![]), ty("option", vec![ty("key", vec![])])]),
        annotated("pair", vec![annotated("int", vec![], "%x"), ty("nat", vec![])], "%p"),
    ] {
        assert_eq!(validate_parameters_ty(&good), Ok(()), "{good:?}");
    }

    assert_eq!(
        orig(&p, ty("unit", vec![]), Some(vec![])),
        Err(RollupError::EmptyWhitelist)
    );
    assert_eq!(
        orig(&p, ty("unit", vec![]), Some(vec![pkh(1), pkh(1)])),
        Err(RollupError::DuplicatedKeyInWhitelist)
    );
    let mut closed = p.clone();
    closed.private_enable = false;
    assert_eq!(
        orig(&closed, ty("unit", vec![]), Some(vec![pkh(1)])),
        Err(RollupError::WhitelistDisabled)
    );
}

#[test]
fn publish_rules() {
    let p = params();
    let mut r = rollup(&p);
    let genesis = r.lcc;
    let c110 = commitment(110, genesis, 2);

    // The first commitment freezes the bond; a second staker joins it.
    let published = r.publish(&ctx(&p, 111), pkh(1), STAKE, c110).unwrap();
    assert_eq!(published.staked_hash, c110.hash());
    assert_eq!(published.published_at_level, 111);
    assert_eq!(
        published.balance_updates,
        vec![
            BalanceUpdate::Contract(pkh(1), -(STAKE as i64)),
            BalanceUpdate::FrozenBonds(pkh(1), r.address, STAKE as i64)
        ]
    );
    let joined = r.publish(&ctx(&p, 115), pkh(2), STAKE, c110).unwrap();
    assert_eq!(joined.published_at_level, 111, "the hash's first publication");
    assert!(r.is_staked_on(&pkh(1), &c110.hash()) && r.is_staked_on(&pkh(2), &c110.hash()));
    // Later commitments take no bond.
    let c120 = commitment(120, c110.hash(), 3);
    assert_eq!(
        r.publish(&ctx(&p, 121), pkh(1), 0, c120).unwrap().balance_updates,
        vec![]
    );

    refused(&mut r, RollupError::DoublePublish(c110.hash()), |r| {
        r.publish(&ctx(&p, 116), pkh(1), STAKE, c110)
    });
    refused(&mut r, RollupError::StakerDoubleStake, |r| {
        r.publish(&ctx(&p, 116), pkh(1), STAKE, commitment(110, genesis, 9))
    });
    refused(&mut r, RollupError::ZeroTickCommitment, |r| {
        let mut zero = commitment(130, c120.hash(), 4);
        zero.number_of_ticks = NumberOfTicks::new(0).unwrap();
        r.publish(&ctx(&p, 131), pkh(1), STAKE, zero)
    });
    refused(
        &mut r,
        RollupError::StakerFundsTooLow {
            balance: STAKE - 1,
            stake: STAKE,
        },
        |r| r.publish(&ctx(&p, 131), pkh(3), STAKE - 1, commitment(110, genesis, 5)),
    );
    refused(
        &mut r,
        RollupError::CommitmentTooOld {
            last_cemented_inbox_level: 100,
            commitment_inbox_level: 100,
        },
        |r| r.publish(&ctx(&p, 131), pkh(1), STAKE, commitment(100, genesis, 5)),
    );
    refused(&mut r, RollupError::TooFarAhead, |r| {
        r.publish(&ctx(&p, 300), pkh(1), STAKE, commitment(210, genesis, 5))
    });
    let unknown = CommitmentHash([7; 32]);
    refused(&mut r, RollupError::UnknownCommitment(unknown), |r| {
        r.publish(&ctx(&p, 131), pkh(1), STAKE, commitment(130, unknown, 5))
    });
    refused(
        &mut r,
        RollupError::BadInboxLevel {
            expected: 130,
            provided: 135,
        },
        |r| r.publish(&ctx(&p, 140), pkh(1), STAKE, commitment(135, c120.hash(), 5)),
    );
    refused(
        &mut r,
        RollupError::CommitmentFromFuture {
            current_level: 130,
            inbox_level: 130,
        },
        |r| r.publish(&ctx(&p, 130), pkh(1), STAKE, commitment(130, c120.hash(), 5)),
    );
    // Curfew: level 110 was first published at 111; window 20.
    r.publish(&ctx(&p, 131), pkh(4), STAKE, commitment(110, genesis, 6))
        .unwrap();
    refused(&mut r, RollupError::CommitmentPastCurfew, |r| {
        r.publish(&ctx(&p, 132), pkh(5), STAKE, commitment(110, genesis, 7))
    });

    // Private rollups take only whitelisted publishers.
    let mut private = RollupState::originate(
        &ctx(&p, 100),
        &[6; 32],
        0,
        StateHash([1; 32]),
        ty("unit", vec![]),
        Some(vec![pkh(1)]),
    )
    .unwrap()
    .rollup;
    let genesis = private.lcc;
    refused(&mut private, RollupError::StakerNotInWhitelist, |r| {
        r.publish(&ctx(&p, 111), pkh(2), STAKE, commitment(110, genesis, 2))
    });
    private
        .publish(&ctx(&p, 111), pkh(1), STAKE, commitment(110, genesis, 2))
        .unwrap();
    assert!(matches!(private.access, Access::Private { .. }));
}

#[test]
fn the_commitment_grid_follows_past_periods() {
    let p = params();
    let past = [
        PastCommitmentPeriod {
            commitment_period: 30,
            next_protocol_activation: 150,
        },
        PastCommitmentPeriod {
            commitment_period: 20,
            next_protocol_activation: 200,
        },
    ];
    let c = Context {
        current_level: 1_000,
        params: &p,
        past_periods: &past,
    };
    assert_eq!(c.next_commitment_level(100), 130);
    assert_eq!(c.next_commitment_level(120), 150);
    assert_eq!(c.next_commitment_level(130), 150, "the second era");
    assert_eq!(c.next_commitment_level(180), 200);
    assert_eq!(c.next_commitment_level(200), 210, "the current period");
}

#[test]
fn cement_rules() {
    let p = params();
    let mut r = rollup(&p);
    let genesis = r.lcc;
    refused(&mut r, RollupError::NoValidCommitmentToCement, |r| {
        r.cement(&ctx(&p, 200))
    });

    let honest = commitment(110, genesis, 2);
    let wrong = commitment(110, genesis, 3);
    r.publish(&ctx(&p, 111), pkh(1), STAKE, honest).unwrap();
    refused(
        &mut r,
        RollupError::CommitmentTooRecent {
            current_level: 130,
            min_level: 131,
        },
        |r| r.cement(&ctx(&p, 130)),
    );
    r.publish(&ctx(&p, 112), pkh(2), STAKE, wrong).unwrap();
    refused(&mut r, RollupError::Disputed, |r| r.cement(&ctx(&p, 200)));

    // The loser of the game is removed: its bond burnt, its commitment dangling.
    let burnt = r.remove_staker(&ctx(&p, 150), pkh(2));
    assert_eq!(
        burnt,
        vec![
            BalanceUpdate::FrozenBonds(pkh(2), r.address, -(STAKE as i64)),
            BalanceUpdate::RefutationPunishments(STAKE as i64)
        ]
    );
    assert_eq!(r.remove_staker(&ctx(&p, 150), pkh(2)), vec![], "already removed");
    assert_eq!(r.cement(&ctx(&p, 150)).unwrap(), (honest.hash(), 110));
    assert_eq!(r.lcc, honest.hash());
    assert!(r.commitment(&wrong.hash()).is_none(), "dangling commitment deleted");
    assert!(r.commitments_at(110).is_empty());
    assert!(!r.is_staked_on(&pkh(1), &honest.hash()), "cemented: no stakers kept");

    // The last five cemented commitments keep their contents.
    let mut chain = vec![genesis, honest.hash()];
    for level in (120..=180).step_by(10) {
        let c = commitment(level, r.lcc, level as u8);
        r.publish(&ctx(&p, level + 1), pkh(1), STAKE, c).unwrap();
        r.cement(&ctx(&p, level + 21)).unwrap();
        chain.push(c.hash());
    }
    let stored: Vec<bool> = chain.iter().map(|h| r.commitment(h).is_some()).collect();
    let n = chain.len();
    assert_eq!(&stored[n - 5..], &[true; 5]);
    assert!(stored[..n - 5].iter().all(|s| !s), "{stored:?}");
    assert!(r.commitments_are_related(&r.lcc, &chain[n - 5]));
}

#[test]
fn recover_bond_rules() {
    let p = params();
    let mut r = rollup(&p);
    let genesis = r.lcc;
    refused(&mut r, RollupError::NotStaked, |r| {
        r.recover_bond(&ctx(&p, 111), pkh(1))
    });
    let c = commitment(110, genesis, 2);
    r.publish(&ctx(&p, 111), pkh(1), STAKE, c).unwrap();
    refused(&mut r, RollupError::NotStakedOnLccOrAncestor, |r| {
        r.recover_bond(&ctx(&p, 112), pkh(1))
    });
    r.cement(&ctx(&p, 131)).unwrap();
    assert_eq!(
        r.recover_bond(&ctx(&p, 132), pkh(1)).unwrap(),
        vec![
            BalanceUpdate::FrozenBonds(pkh(1), r.address, -(STAKE as i64)),
            BalanceUpdate::Contract(pkh(1), STAKE as i64)
        ]
    );
    assert!(!r.is_staker(&pkh(1)));
    refused(&mut r, RollupError::NotStaked, |r| {
        r.recover_bond(&ctx(&p, 133), pkh(1))
    });
    // Publishing again takes a new bond.
    let again = r
        .publish(&ctx(&p, 141), pkh(1), STAKE, commitment(120, c.hash(), 3))
        .unwrap();
    assert_eq!(again.balance_updates.len(), 2);
}
