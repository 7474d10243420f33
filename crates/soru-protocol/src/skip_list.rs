//! The basis-4 skip list of Octez's `lib_base/skip_list.ml`, as the inbox
//! uses it: a chain of cells, each holding a content and back pointers
//! (hashes of earlier cells) so that any earlier cell is reached in
//! O(log₄ n) steps, and a path from a cell to an earlier one proves it.
//!
//! Cell `i` has ⌊log₄ i⌋ + 1 back pointers (the first cell none); pointer
//! `k` names cell `i − (i mod 4ᵏ) − 1`. A path takes, at every cell, the
//! pointer whose target is the smallest index still at or past the wanted
//! one, found by Octez's own binary search (`best_skip`), which the
//! verifier requires of every step. Indices are not hashed: a verifier
//! trusts them only as far as the path's hashes bind them.

use std::collections::HashMap;

use soru_core::encoding::{read_n, write_n, DecodeError, DecodeResult, Reader};

use crate::Hash;

/// Both inbox skip lists use basis 4.
pub const BASIS: u64 = 4;

/// A cell: its index, its content and the hashes of the cells its back
/// pointers name, pointer 0 first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell<C> {
    /// Position in the list (0 for the first cell).
    pub index: u64,
    /// What the cell holds.
    pub content: C,
    /// Hashes of earlier cells; pointer `k` names cell `index − (index mod 4ᵏ) − 1`.
    pub back_pointers: Vec<Hash>,
}

impl<C> Cell<C> {
    /// The first cell of a list.
    pub fn genesis(content: C) -> Self {
        Self {
            index: 0,
            content,
            back_pointers: Vec::new(),
        }
    }

    /// The cell after `prev` (whose hash is `prev_hash`).
    pub fn next(prev: &Cell<C>, prev_hash: Hash, content: C) -> Self {
        let index = prev.index + 1;
        let mut back_pointers = Vec::new();
        let mut power = 1u64;
        while power <= index {
            let k = back_pointers.len();
            // Pointer k moves to the new cell's predecessor exactly when the
            // index crosses a multiple of 4ᵏ; otherwise it is inherited.
            let pointer = if index % power == 0 {
                prev_hash
            } else {
                prev.back_pointers.get(k).copied().unwrap_or(prev_hash)
            };
            back_pointers.push(pointer);
            match power.checked_mul(BASIS) {
                Some(p) => power = p,
                None => break,
            }
        }
        Self {
            index,
            content,
            back_pointers,
        }
    }

    /// The index pointer `j` names according to this cell's own index, with
    /// `powers[j] = 4ʲ` (`None` past `powers`).
    fn pointed(&self, j: usize, powers: &[u64]) -> Option<i128> {
        let power = *powers.get(j)?;
        let index = i128::from(self.index);
        Some(index - index % i128::from(power) - 1)
    }

    /// Octez's `best_skip`: the position of the back pointer to follow
    /// towards index `target`, by binary search over the pointers with the
    /// powers of the walk's starting cell.
    pub fn best_skip(&self, target: u64, powers: &[u64]) -> Option<usize> {
        let target = i128::from(target);
        let (mut start, mut end) = (0usize, self.back_pointers.len().checked_sub(1)?);
        loop {
            if start >= end {
                return Some(start);
            }
            let mid = start + (end - start) / 2;
            let at_mid = self.pointed(mid, powers)?;
            if at_mid == target {
                return Some(mid);
            }
            if at_mid < target {
                // `start <= mid - 1` unless mid == start: then the search
                // ends at `start` (Octez's `bs start (mid - 1)` with
                // start >= end returns start).
                end = match mid.checked_sub(1) {
                    Some(e) if e >= start => e,
                    _ => return Some(start),
                };
                continue;
            }
            let after = self.pointed(mid + 1, powers)?;
            if after == target {
                return Some(mid + 1);
            }
            if after < target {
                return Some(mid);
            }
            start = mid + 1;
        }
    }
}

/// `4ʲ` for every back pointer of `cell` (Octez's `list_powers`).
fn powers_of<C>(cell: &Cell<C>) -> Vec<u64> {
    let mut power = 1u64;
    (0..cell.back_pointers.len())
        .map(|_| {
            let p = power;
            power = power.saturating_mul(BASIS);
            p
        })
        .collect()
}

/// The path (hashes, `start` first, the target last) from the cell
/// `start` to the earlier cell of index `target`, following `best_skip`;
/// `None` if a cell is missing or the target is not behind `start`.
pub fn back_path<C>(deref: impl Fn(&Hash) -> Option<Cell<C>>, start: Hash, target: u64) -> Option<Vec<Hash>> {
    let first = deref(&start)?;
    let powers = powers_of(&first);
    let mut path = vec![start];
    let mut cell = first;
    loop {
        if cell.index == target {
            return Some(path);
        }
        if target > cell.index {
            return None;
        }
        let j = cell.best_skip(target, &powers)?;
        let next = *cell.back_pointers.get(j)?;
        path.push(next);
        cell = deref(&next)?;
    }
}

/// Octez's `valid_back_path`: whether `path` leads from the cell `start`
/// to the cell `target`, every step taking the pointer `best_skip` picks.
pub fn valid_back_path<C>(
    deref: impl Fn(&Hash) -> Option<Cell<C>>,
    start: &Hash,
    target: &Hash,
    path: &[Hash],
) -> bool {
    let (Some(target_cell), Some(start_cell)) = (deref(target), deref(start)) else {
        return false;
    };
    let powers = powers_of(&start_cell);
    let wanted = target_cell.index;
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    if first != start {
        return false;
    }
    let (mut current, mut index) = (*first, start_cell.index);
    for next in rest {
        let (Some(cell), Some(next_cell)) = (deref(&current), deref(next)) else {
            return false;
        };
        if !cell.back_pointers.contains(next) {
            return false;
        }
        let Some(j) = cell.best_skip(wanted, &powers) else {
            return false;
        };
        if cell.back_pointers.get(j) != Some(next) {
            return false;
        }
        current = *next;
        index = next_cell.index;
    }
    current == *target && index == wanted
}

/// Whether `cells` (a proof's) are a valid back path from the cell of hash
/// `start` to their last cell, `hash` naming each cell.
pub(crate) fn valid_cell_path<C: Clone>(cells: &[Cell<C>], start: &Hash, hash: impl Fn(&Cell<C>) -> Hash) -> bool {
    let Some(target) = cells.last() else {
        return false;
    };
    let by_hash: HashMap<Hash, Cell<C>> = cells.iter().map(|c| (hash(c), c.clone())).collect();
    let path: Vec<Hash> = cells.iter().map(&hash).collect();
    valid_back_path(|h| by_hash.get(h).cloned(), start, &hash(target), &path)
}

/// `index (n) ‖ content ‖ back pointers (list of 32-byte hashes)`.
pub(crate) fn encode_cell<C>(cell: &Cell<C>, out: &mut Vec<u8>, content: impl FnOnce(&C, &mut Vec<u8>)) {
    write_n(out, u128::from(cell.index));
    content(&cell.content, out);
    soru_core::encoding::write_dynamic(out, |out| {
        for pointer in &cell.back_pointers {
            out.extend_from_slice(pointer);
        }
    });
}

/// Reads what [`encode_cell`] writes.
pub(crate) fn decode_cell<C>(
    r: &mut Reader<'_>,
    content: impl FnOnce(&mut Reader<'_>) -> DecodeResult<C>,
) -> DecodeResult<Cell<C>> {
    let index = u64::try_from(read_n(r)?).map_err(|_| DecodeError::Overflow("skip-list cell index"))?;
    let content = content(r)?;
    let back_pointers = r.dynamic(|inner| {
        let mut pointers = Vec::new();
        while !inner.is_empty() {
            pointers.push(inner.array::<32>()?);
        }
        Ok(pointers)
    })?;
    Ok(Cell {
        index,
        content,
        back_pointers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list of `n` cells whose content is their index; hashes are the
    /// index too (enough to test the walk).
    fn list(n: u64) -> HashMap<Hash, Cell<u64>> {
        let hash = |i: u64| {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&i.to_be_bytes());
            h[31] = 1;
            h
        };
        let mut cells = HashMap::new();
        let mut prev = Cell::genesis(0);
        cells.insert(hash(0), prev.clone());
        for i in 1..n {
            let cell = Cell::next(&prev, hash(i - 1), i);
            cells.insert(hash(i), cell.clone());
            prev = cell;
        }
        cells
    }

    fn index_of(h: &Hash) -> u64 {
        u64::from_be_bytes(h[..8].try_into().unwrap())
    }

    #[test]
    fn back_pointers_name_the_closed_form_targets() {
        let cells = list(300);
        for cell in cells.values() {
            let i = cell.index;
            let expected = if i == 0 { 0 } else { (i.ilog(4) + 1) as usize };
            assert_eq!(cell.back_pointers.len(), expected, "cell {i}");
            for (k, p) in cell.back_pointers.iter().enumerate() {
                assert_eq!(index_of(p), i - i % 4u64.pow(k as u32) - 1, "cell {i} pointer {k}");
            }
        }
    }

    #[test]
    fn paths_match_the_documented_examples() {
        let cells = list(101);
        let hash = |i: u64| *cells.iter().find(|(_, c)| c.index == i).unwrap().0;
        let deref = |h: &Hash| cells.get(h).cloned();
        for (from, to, expected) in [
            (20, 0, vec![20, 15, 11, 7, 3, 2, 1, 0]),
            (20, 5, vec![20, 15, 11, 7, 6, 5]),
            (20, 13, vec![20, 15, 14, 13]),
            (5, 3, vec![5, 3]),
            (64, 0, vec![64, 63, 47, 31, 15, 11, 7, 3, 2, 1, 0]),
            (100, 17, vec![100, 63, 47, 31, 27, 23, 19, 18, 17]),
        ] {
            let path = back_path(deref, hash(from), to).unwrap();
            assert_eq!(path.iter().map(index_of).collect::<Vec<_>>(), expected, "{from} → {to}");
            assert!(valid_back_path(deref, &hash(from), &hash(to), &path));
        }
        assert_eq!(back_path(deref, hash(5), 6), None, "a later target");
    }

    #[test]
    fn every_path_is_valid_and_minimal_and_others_are_not() {
        let cells = list(200);
        let hash = |i: u64| *cells.iter().find(|(_, c)| c.index == i).unwrap().0;
        let deref = |h: &Hash| cells.get(h).cloned();
        for from in [1, 4, 16, 63, 64, 65, 199] {
            for to in 0..=from {
                let path = back_path(deref, hash(from), to).unwrap();
                assert!(
                    path.len() as u32 <= 3 * (from.max(1).ilog(4) + 2),
                    "{from} → {to}: {path:?}"
                );
                assert!(valid_back_path(deref, &hash(from), &hash(to), &path));
                // A step through the predecessor instead of the best skip.
                if path.len() > 2 && index_of(&path[1]) != from - 1 {
                    let mut detour = back_path(deref, hash(from - 1), to).unwrap();
                    detour.insert(0, hash(from));
                    assert!(
                        !valid_back_path(deref, &hash(from), &hash(to), &detour),
                        "{from} → {to}"
                    );
                }
                // Cut short, or aimed elsewhere.
                if path.len() > 1 {
                    assert!(!valid_back_path(deref, &hash(from), &hash(to), &path[..path.len() - 1]));
                }
            }
        }
        assert!(!valid_back_path(deref, &hash(3), &hash(1), &[]));
    }

    #[test]
    fn best_skip_picks_the_smallest_target_not_below_the_wanted_index() {
        let cells = list(400);
        for cell in cells.values().filter(|c| c.index > 0) {
            let powers = powers_of(cell);
            for target in 0..cell.index {
                let j = cell.best_skip(target, &powers).unwrap();
                let chosen = index_of(&cell.back_pointers[j]);
                let best = cell
                    .back_pointers
                    .iter()
                    .map(index_of)
                    .filter(|&t| t >= target)
                    .min()
                    .unwrap();
                assert_eq!(chosen, best, "cell {} target {target}", cell.index);
            }
        }
    }
}
