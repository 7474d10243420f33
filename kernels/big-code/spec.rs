// The functions of the `big-code` kernel, as data. Included by `build.rs`
// (which turns them into Rust functions) and by the `check` tests (which
// evaluate them on the host to predict the kernel's result). Deterministic:
// function `i` depends only on `i`.

/// Number of generated functions.
pub const FUNCTIONS: usize = 3000;

/// Steps per function.
pub const STEPS: usize = 16;

/// One step of a generated function, applied to the running value `x`.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// `x = x.wrapping_mul(m) ^ c` (`m` odd).
    MulXor(u64, u64),
    /// `x = x.rotate_left(r).wrapping_add(c)`.
    RotAdd(u32, u64),
    /// `x ^= x >> s`.
    ShiftXor(u32),
    /// `x = x.wrapping_sub(c).rotate_right(r)`.
    SubRotr(u64, u32),
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The steps of function `i`.
pub fn steps(i: usize) -> Vec<Step> {
    let mut state = 0x5eed_0000_0000_0000u64 ^ i as u64;
    (0..STEPS)
        .map(|_| {
            let r = splitmix(&mut state);
            let c = splitmix(&mut state);
            match r % 4 {
                0 => Step::MulXor(c | 1, splitmix(&mut state)),
                1 => Step::RotAdd((r >> 8) as u32 % 63 + 1, c),
                2 => Step::ShiftXor((r >> 8) as u32 % 40 + 7),
                _ => Step::SubRotr(c, (r >> 8) as u32 % 63 + 1),
            }
        })
        .collect()
}

/// Applies function `i` to `x` (what the generated code computes).
pub fn apply(i: usize, mut x: u64) -> u64 {
    for step in steps(i) {
        x = match step {
            Step::MulXor(m, c) => x.wrapping_mul(m) ^ c,
            Step::RotAdd(r, c) => x.rotate_left(r).wrapping_add(c),
            Step::ShiftXor(s) => x ^ (x >> s),
            Step::SubRotr(c, r) => x.wrapping_sub(c).rotate_right(r),
        };
    }
    x
}
