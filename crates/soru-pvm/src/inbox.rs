//! Building the inputs of one inbox level as the L1 delivers them:
//! start of level, info per level, the messages in order, end of level.

use soru_core::inbox::{InboxMessage, InfoPerLevel, InternalMessage};
use soru_core::Encode;

use crate::pvm::Input;

/// The inputs of inbox level `level`: SOL, Info_per_level(`info`), each of
/// `messages` (already serialized inbox messages), EOL, with counters from 0.
pub fn level_inputs(level: u32, info: InfoPerLevel, messages: &[InboxMessage]) -> Vec<Input> {
    let mut all = Vec::with_capacity(messages.len() + 3);
    all.push(InboxMessage::Internal(InternalMessage::StartOfLevel));
    all.push(InboxMessage::Internal(InternalMessage::InfoPerLevel(info)));
    all.extend(messages.iter().cloned());
    all.push(InboxMessage::Internal(InternalMessage::EndOfLevel));
    all.into_iter()
        .enumerate()
        .map(|(counter, m)| Input {
            level,
            counter: counter as u64,
            payload: m.to_bytes(),
        })
        .collect()
}

/// [`level_inputs`] with external messages given by their payloads.
pub fn external_level_inputs(level: u32, info: InfoPerLevel, payloads: &[&[u8]]) -> Vec<Input> {
    let messages: Vec<InboxMessage> = payloads.iter().map(|p| InboxMessage::External(p.to_vec())).collect();
    level_inputs(level, info, &messages)
}
