//! Protocol parameters: the L1 constants and the PVM constants in one place,
//! with the mainnet profile (Tezos T024 values, 6 s blocks) and soru's
//! sandbox profile (1 s blocks and short rollup periods, so that a whole
//! commit → dispute → cement → execute-outbox cycle fits in about a minute).

use serde::{Deserialize, Serialize};

/// Every per-network constant soru's L1 and PVM use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolParams {
    /// Seconds between blocks.
    pub minimal_block_delay: u64,
    /// Blocks per cycle.
    pub blocks_per_cycle: u32,
    /// Blocks an operation's branch stays valid.
    pub max_operations_time_to_live: u32,
    /// Gas limit of one operation.
    pub hard_gas_limit_per_operation: u64,
    /// Gas limit of one block.
    pub hard_gas_limit_per_block: u64,
    /// Storage limit of one operation, in bytes.
    pub hard_storage_limit_per_operation: u64,
    /// Storage burn per byte, in mutez.
    pub cost_per_byte: u64,
    /// Bytes burnt to originate a contract or allocate an account.
    pub origination_size: u32,
    /// Largest signed operation, in bytes.
    pub max_operation_data_length: u32,
    /// Smart rollup constants.
    pub smart_rollup: SmartRollupParams,
}

/// Smart rollup constants (`sc_rollup_*` / `smart_rollup_*` in Octez).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartRollupParams {
    /// Whether smart rollups can be originated.
    pub enable: bool,
    /// Whether the arithmetic PVM is allowed.
    pub arith_pvm_enable: bool,
    /// Whether the RISC-V PVM is allowed.
    pub riscv_pvm_enable: bool,
    /// Whether private (whitelisted) rollups are allowed.
    pub private_enable: bool,
    /// Bytes burnt at origination.
    pub origination_size: u32,
    /// Blocks between two commitments.
    pub commitment_period_in_blocks: u32,
    /// Blocks a commitment waits before it can be cemented.
    pub challenge_window_in_blocks: u32,
    /// Blocks each player has on its chess clock.
    pub timeout_period_in_blocks: u32,
    /// How far ahead of the last cemented commitment one may publish.
    pub max_lookahead_in_blocks: u32,
    /// Outbox levels kept executable after cementation.
    pub max_active_outbox_levels: u32,
    /// Outbox messages per level.
    pub max_outbox_messages_per_level: u32,
    /// Sections of a dissection.
    pub number_of_sections_in_dissection: u8,
    /// Bond frozen by a staker, in mutez.
    pub stake_amount: u64,
    /// Cemented commitments kept for outbox execution.
    pub max_number_of_stored_cemented_commitments: u32,
    /// Games one staker may play at once on one rollup.
    pub max_number_of_parallel_games: u32,
    /// Largest inbox or outbox message, and largest revealed preimage.
    pub message_size_limit: u32,
    /// Messages per inbox level.
    pub max_number_of_messages_per_level: u32,
    /// PVM constants.
    pub pvm: PvmParams,
}

/// Constants of the `wasm_2_0_0` PVM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PvmParams {
    /// Ticks of every `kernel_run` cycle, padding included.
    pub ticks_per_snapshot: u128,
    /// Levels an outbox message stays in the PVM's output buffer.
    pub outbox_validity_period: u32,
    /// Outbox messages per level inside the PVM.
    pub outbox_message_limit: u32,
    /// Reboots allowed per inbox level (plus the first `kernel_run`).
    pub maximum_reboots_per_input: u32,
    /// Frames on the WebAssembly call stack.
    pub max_call_stack_frames: u32,
    /// `/readonly/wasm_version` of newly originated rollups.
    pub initial_wasm_version: String,
}

impl ProtocolParams {
    /// Tezos mainnet (protocol T024, 6 s blocks).
    pub fn mainnet() -> Self {
        Self {
            minimal_block_delay: 6,
            blocks_per_cycle: 14_400,
            max_operations_time_to_live: 600,
            hard_gas_limit_per_operation: 1_040_000,
            hard_gas_limit_per_block: 1_040_000,
            hard_storage_limit_per_operation: 60_000,
            cost_per_byte: 250,
            origination_size: 257,
            max_operation_data_length: 32_768,
            smart_rollup: SmartRollupParams {
                enable: true,
                arith_pvm_enable: false,
                riscv_pvm_enable: false,
                private_enable: true,
                origination_size: 6_314,
                commitment_period_in_blocks: 150,
                challenge_window_in_blocks: 201_600,
                timeout_period_in_blocks: 100_800,
                max_lookahead_in_blocks: 432_000,
                max_active_outbox_levels: 151_200,
                max_outbox_messages_per_level: 100,
                number_of_sections_in_dissection: 32,
                stake_amount: 10_000_000_000,
                max_number_of_stored_cemented_commitments: 5,
                max_number_of_parallel_games: 32,
                message_size_limit: 4_096,
                max_number_of_messages_per_level: 1_000_000,
                pvm: PvmParams {
                    ticks_per_snapshot: 50_000_000_000_000,
                    outbox_validity_period: 241_920,
                    outbox_message_limit: 100,
                    maximum_reboots_per_input: 1_000,
                    max_call_stack_frames: 60_000,
                    initial_wasm_version: "2.0.0-r6".into(),
                },
            },
        }
    }

    /// soru's sandbox: 1 s blocks, commitment period 4, challenge window 16,
    /// timeout 16 blocks per player, lookahead 10 000, 1 000 active outbox
    /// levels; everything else as mainnet (stake, 32 sections,
    /// `ticks_per_snapshot`, message limits).
    pub fn sandbox() -> Self {
        let mut params = Self::mainnet();
        params.minimal_block_delay = 1;
        params.blocks_per_cycle = 8;
        params.max_operations_time_to_live = 120;
        let rollup = &mut params.smart_rollup;
        rollup.commitment_period_in_blocks = 4;
        rollup.challenge_window_in_blocks = 16;
        rollup.timeout_period_in_blocks = 16;
        rollup.max_lookahead_in_blocks = 10_000;
        rollup.max_active_outbox_levels = 1_000;
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        let mainnet = ProtocolParams::mainnet();
        let sandbox = ProtocolParams::sandbox();
        assert_eq!(sandbox.minimal_block_delay, 1);
        assert_eq!(sandbox.smart_rollup.commitment_period_in_blocks, 4);
        assert_eq!(sandbox.smart_rollup.challenge_window_in_blocks, 16);
        assert_eq!(sandbox.smart_rollup.stake_amount, mainnet.smart_rollup.stake_amount);
        assert_eq!(sandbox.smart_rollup.pvm, mainnet.smart_rollup.pvm);
        let json = serde_json::to_string(&sandbox).unwrap();
        assert_eq!(serde_json::from_str::<ProtocolParams>(&json).unwrap(), sandbox);
    }
}
