//! Replaying a trace: checked at every step ([`replay_checked`]), or timed with no checks
//! ([`replay_timed`]).
//!
//! Both trust the [`Allocator`] contract: a block it returns is `size` bytes of memory that no one
//! else uses until it is freed. The checked replay verifies what can be verified from outside
//! (alignment, no overlap with another live block, bytes kept), but it must write into a block to
//! check it, so an allocator that returns memory it does not own is beyond help. Likewise, a
//! `realloc` that forgets to copy may leave the kept bytes uninitialised: the driver reads them
//! anyway, because that read is what catches the bug (Miri reports the read itself).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use super::{Op, Report, Trace};
use crate::allocator::Allocator;
// What the tasks of this file need (unused until they are written).
#[allow(unused_imports)]
use crate::allocator::BLOCK_ALIGN;

/// Why a checked replay stopped: the step (counted from 0) and its operation, or `op: None` when
/// the check after the last step failed, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError {
    /// The step that failed (`trace.ops.len()` for the final check).
    pub step: usize,
    /// The operation of that step (`None` for the final check).
    pub op: Option<Op>,
    /// What went wrong, as a sentence.
    pub message: String,
}

/// `step 1234 (`f 17`): ...`, or `after the last step (step 2000): ...`.
impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Some(op) => write!(f, "step {} (`{op}`): {}", self.step, self.message),
            None => write!(
                f,
                "after the last step (step {}): {}",
                self.step, self.message
            ),
        }
    }
}

impl std::error::Error for ReplayError {}

/// A live block, as the driver sees it.
#[derive(Debug, Clone, Copy)]
struct Block {
    ptr: NonNull<u8>,
    /// The requested size.
    size: usize,
    /// The seed of the pattern its bytes hold: [`pattern_seed`] of its id and of the step that
    /// wrote it.
    seed: u64,
}

impl Block {
    /// The first address of the block.
    fn start(&self) -> usize {
        self.ptr.addr().get()
    }

    /// One past the last address the block takes. A block of 0 bytes takes one, so that two of
    /// them cannot share an address: C's `malloc(0)` must return a unique pointer.
    fn end(&self) -> usize {
        self.start() + self.size.max(1)
    }

    /// The block's bytes.
    ///
    /// # Safety
    /// The block was returned by the allocator being replayed, with at least `size` bytes, and is
    /// still live (not freed, not resized since); no other reference to its bytes is in use.
    unsafe fn bytes<'a>(&self) -> &'a mut [u8] {
        // SAFETY: the caller promises the block is live and `size` bytes long, and that nothing
        // else borrows it.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.size) }
    }
}

/// What occupies an address range in the live-block map: the end of the range and the block's id.
#[derive(Debug, Clone, Copy)]
struct Occupied {
    end: usize,
    id: usize,
}

/// The seed of the pattern a block is filled with, from its id and the step that filled it: two
/// blocks, or one block at two moments, hold different bytes, so a block that is copied to the
/// wrong place, or keeps old bytes, is noticed. (SplitMix64's finaliser, to spread the bits.)
fn pattern_seed(id: usize, step: usize) -> u64 {
    let mut z = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (step as u64);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The byte at `offset` of a block filled with the pattern `seed`: the seed's bytes in turn,
/// each 8-byte word xored with its index, so that no two words of a block are alike.
fn pattern_byte(seed: u64, offset: usize) -> u8 {
    (seed >> (8 * (offset % 8))) as u8 ^ (offset / 8) as u8
}

/// Fills `bytes` with the pattern `seed`: byte `i` is [`pattern_byte`]`(seed, i)`.
fn fill(bytes: &mut [u8], seed: u64) {
    for (offset, byte) in bytes.iter_mut().enumerate() {
        *byte = pattern_byte(seed, offset);
    }
}

/// Checks that `bytes` still hold the pattern `seed`; on the first byte that does not, says
/// which byte of block `id` it is, what it holds and what it should hold.
fn verify(bytes: &[u8], seed: u64, id: usize) -> Result<(), String> {
    // TODO: Ok when every byte i of bytes is pattern_byte(seed, i); otherwise an Err naming the
    //       first byte that is not: which byte of block id, its value and the value expected
    todo!()
}

/// Checks that `block`, just returned for `id`, overlaps no live block in `live` (keyed by start
/// address), then records it there.
fn place(live: &mut BTreeMap<usize, Occupied>, id: usize, block: &Block) -> Result<(), String> {
    // TODO: an Err naming the live block that block shares an address with, if any (its range is
    //       block.start()..block.end()); otherwise Ok, with block recorded in live under its start
    todo!()
}

/// Checks that `block`, just returned for `id`, starts at a multiple of [`BLOCK_ALIGN`] bytes,
/// as the [`Allocator`] contract promises; the error says by how many bytes it is off.
fn check_alignment(id: usize, block: &Block) -> Result<(), String> {
    // TODO: Ok when block starts at a multiple of BLOCK_ALIGN; otherwise an Err naming the block,
    //       its address and how far it is past the multiple below
    todo!()
}

/// Checks, after `realloc` resized block `id` from `old` (as it was before) to `resized` (the
/// block it returned, with the new size, not yet filled), that the bytes the two sizes share,
/// the first `min(old size, new size)`, still hold the old pattern: what C's `realloc` promises,
/// whether the block moved or not.
///
/// # Safety
/// `resized.ptr` was just returned by the allocator's `realloc`, with at least `resized.size`
/// bytes, and nothing else uses them.
unsafe fn check_kept(id: usize, old: &Block, resized: &Block) -> Result<(), String> {
    // TODO: Ok when the first min(old size, new size) bytes of the resized block hold old's
    //       pattern; otherwise an Err saying the resize lost bytes, naming the first one
    todo!()
}

/// The final check of a replay: every block still live after the last step must still hold its
/// pattern. Reports the first block that does not, in id order, so that the error is the same on
/// every run.
///
/// Every block in `blocks` is live, with `size` bytes that nothing else uses.
fn check_live(blocks: &HashMap<usize, Block>) -> Result<(), String> {
    // TODO: Ok when every block of blocks still holds its pattern; otherwise the Err of verify for
    //       the one with the smallest id among those that do not
    todo!()
}

// ANCHOR: replay_checked
/// Replays `trace` against `allocator`, checking every step, and reports the peaks and the
/// utilisation.
///
/// At each step: a new or resized block must be aligned to [`BLOCK_ALIGN`] and overlap no live
/// block; it is filled with a pattern of its id and the step. Before a block is freed or
/// resized, its pattern is verified; after a resize, the first `min(old, new)` bytes must still
/// hold the old pattern (then the whole block gets a new one). Then `after_step(step, op,
/// allocator)` runs: an `Err` from it stops the replay with that message. After the last step,
/// every live block is verified, then freed.
///
/// The peaks are taken after every step: live payload (the sum of the requested sizes) and
/// [`Allocator::footprint`].
pub fn replay_checked<A: Allocator>(
    trace: &Trace,
    allocator: &mut A,
    mut after_step: impl FnMut(usize, &Op, &A) -> Result<(), String>,
) -> Result<Report, ReplayError> {
    let mut blocks: HashMap<usize, Block> = HashMap::new();
    let mut ranges: BTreeMap<usize, Occupied> = BTreeMap::new();
    let (mut live_bytes, mut peak_live_bytes) = (0usize, 0usize);
    let mut peak_footprint: Option<usize> = None;

    for (step, op) in trace.ops.iter().enumerate() {
        let fail = |message: String| ReplayError {
            step,
            op: Some(*op),
            message,
        };
        let not_live = |id: usize| fail(format!("block {id} is not live"));
        match *op {
            Op::Alloc { id, size } => {
                if blocks.contains_key(&id) {
                    return Err(fail(format!("block {id} is already live")));
                }
                let ptr = allocator
                    .malloc(size)
                    .ok_or_else(|| fail(format!("malloc({size}) returned no block")))?;
                let block = Block {
                    ptr,
                    size,
                    seed: pattern_seed(id, step),
                };
                place(&mut ranges, id, &block).map_err(fail)?;
                check_alignment(id, &block).map_err(fail)?;
                // SAFETY: the allocator just returned the block, with `size` bytes, and it
                // overlaps no other live block (checked by `place`).
                fill(unsafe { block.bytes() }, block.seed);
                blocks.insert(id, block);
                live_bytes += size;
            }
            Op::Free { id } => {
                let block = blocks.remove(&id).ok_or_else(|| not_live(id))?;
                // SAFETY: the block is live until the `free` below.
                verify(unsafe { block.bytes() }, block.seed, id).map_err(fail)?;
                ranges.remove(&block.start());
                // SAFETY: the allocator returned `block.ptr` and it has not been freed since
                // (it was in `blocks` until now).
                unsafe { allocator.free(block.ptr) };
                live_bytes -= block.size;
            }
            Op::Realloc { id, size } => {
                let old = blocks.remove(&id).ok_or_else(|| not_live(id))?;
                // SAFETY: the block is live until the `realloc` below.
                verify(unsafe { old.bytes() }, old.seed, id).map_err(fail)?;
                ranges.remove(&old.start());
                // SAFETY: the allocator returned `old.ptr` and it has not been freed since.
                let ptr = unsafe { allocator.realloc(old.ptr, size) }
                    .ok_or_else(|| fail(format!("realloc to {size} bytes returned no block")))?;
                let block = Block {
                    ptr,
                    size,
                    seed: pattern_seed(id, step),
                };
                // SAFETY: the allocator just returned the resized block, with `size` bytes,
                // which only the driver uses.
                unsafe { check_kept(id, &old, &block) }.map_err(fail)?;
                place(&mut ranges, id, &block).map_err(fail)?;
                check_alignment(id, &block).map_err(fail)?;
                // SAFETY: as for a new block: just returned, `size` bytes, overlapping no other.
                fill(unsafe { block.bytes() }, block.seed);
                blocks.insert(id, block);
                live_bytes = live_bytes - old.size + size;
            }
        }
        peak_live_bytes = peak_live_bytes.max(live_bytes);
        if let Some(footprint) = allocator.footprint() {
            peak_footprint = Some(peak_footprint.map_or(footprint, |p| p.max(footprint)));
        }
        after_step(step, op, allocator).map_err(fail)?;
    }

    // The final check.
    check_live(&blocks).map_err(|message| ReplayError {
        step: trace.ops.len(),
        op: None,
        message,
    })?;
    // Then every block left is freed, in id order, so that every run frees alike.
    let mut left: Vec<(usize, Block)> = blocks.into_iter().collect();
    left.sort_unstable_by_key(|&(id, _)| id);
    for (_, block) in left {
        // SAFETY: every block in `blocks` is live and is freed once here.
        unsafe { allocator.free(block.ptr) };
    }
    Ok(Report::new(
        trace.ops.len(),
        peak_live_bytes,
        peak_footprint,
    ))
}
// ANCHOR_END: replay_checked

/// Replays `trace` against `allocator` with no checks and returns the time it took: the
/// operations, plus an 8-byte write into each block allocated or resized (of 8 bytes or more),
/// so that the allocator's memory is really touched, as workload A specifies.
///
/// Before the clock starts, large ids are renumbered `0..n` so that the loop finds a block by
/// indexing a vector ([`TimedReplay`] is that loop). After it stops, blocks still live are
/// freed. Panics if the allocator runs out of memory or the trace frees a block that is not live.
pub fn replay_timed<A: Allocator>(trace: &Trace, allocator: &mut A) -> Duration {
    let (ops, ids) = renumbered(&trace.ops);
    let mut replay = TimedReplay::new(allocator, ids);
    let start = Instant::now();
    replay.run(ops.as_ref());
    start.elapsed()
    // Dropping `replay` frees the blocks still live, after the clock stopped.
}

/// The loop of [`replay_timed`], for a caller that times parts of a trace itself (the criterion
/// benchmark times workload A's steady phase only): the live blocks are kept in a vector indexed
/// by id, so ids must be below the number given to [`TimedReplay::new`]. Dropping it frees the
/// blocks still live.
pub struct TimedReplay<'a, A: Allocator> {
    allocator: &'a mut A,
    /// The live block of each id.
    blocks: Vec<Option<NonNull<u8>>>,
}

impl<'a, A: Allocator> TimedReplay<'a, A> {
    /// A replay on `allocator` of operations whose ids are below `ids`.
    pub fn new(allocator: &'a mut A, ids: usize) -> Self {
        TimedReplay {
            allocator,
            blocks: vec![None; ids],
        }
    }

    /// Performs `ops`, unchecked but for what a crash would be (an id that is not live, or out
    /// of range, panics).
    pub fn run(&mut self, ops: &[Op]) {
        for op in ops {
            match *op {
                Op::Alloc { id, size } => {
                    let ptr = self
                        .allocator
                        .malloc(size)
                        .expect("the allocator ran out of memory");
                    touch(ptr, size, id);
                    let old = self.blocks[id].replace(ptr);
                    assert!(
                        old.is_none(),
                        "the trace allocates block {id}, already live"
                    );
                }
                Op::Free { id } => {
                    let ptr = self.blocks[id]
                        .take()
                        .expect("the trace frees a block that is not live");
                    // SAFETY: `ptr` came from this allocator and was live until `take` above.
                    unsafe { self.allocator.free(ptr) };
                }
                Op::Realloc { id, size } => {
                    let old = self.blocks[id].expect("the trace resizes a block that is not live");
                    // SAFETY: `old` came from this allocator and is live; it is replaced below.
                    let ptr = unsafe { self.allocator.realloc(old, size) }
                        .expect("the allocator ran out of memory");
                    touch(ptr, size, id);
                    self.blocks[id] = Some(ptr);
                }
            }
        }
    }

    /// Frees every live block.
    pub fn free_all(&mut self) {
        for ptr in self.blocks.iter_mut().filter_map(Option::take) {
            // SAFETY: every block in `blocks` came from this allocator and is live; `take`
            // removed it, so it is freed once.
            unsafe { self.allocator.free(ptr) };
        }
    }
}

impl<A: Allocator> Drop for TimedReplay<'_, A> {
    fn drop(&mut self) {
        self.free_all();
    }
}

/// Writes 8 bytes into a block of `size` bytes, if it has that many.
fn touch(ptr: NonNull<u8>, size: usize, id: usize) {
    if size >= 8 {
        // SAFETY: the allocator returned `ptr` with at least `size` >= 8 bytes, and the trace
        // owns them; `write_unaligned` asks nothing of the address.
        unsafe { ptr.cast::<u64>().write_unaligned(id as u64) };
    }
}

/// The operations with ids below `n`, and `n`: the trace's own ids if they are already small
/// (below four times the number of operations, as workload A's slots are), otherwise the ids
/// renumbered `0..n` in order of first use.
fn renumbered(ops: &[Op]) -> (Cow<'_, [Op]>, usize) {
    let max = ops.iter().map(Op::id).max().unwrap_or(0);
    if max < 4 * ops.len() {
        return (Cow::Borrowed(ops), max + 1);
    }
    let mut numbers: HashMap<usize, usize> = HashMap::new();
    let mut number = |id: usize| {
        let next = numbers.len();
        *numbers.entry(id).or_insert(next)
    };
    let ops: Vec<Op> = ops
        .iter()
        .map(|op| match *op {
            Op::Alloc { id, size } => Op::Alloc {
                id: number(id),
                size,
            },
            Op::Free { id } => Op::Free { id: number(id) },
            Op::Realloc { id, size } => Op::Realloc {
                id: number(id),
                size,
            },
        })
        .collect();
    (Cow::Owned(ops), numbers.len())
}
