//! Workload A (`docs/workloads.md`): the small-object allocation trace, replayed on lab 02's
//! pymalloc, CPython's obmalloc, glibc and mimalloc, each in a process of its own.
//!
//! The trace is generated as it is replayed (a few nanoseconds of the time per operation are the
//! generator's, the same for every allocator), after one untimed pass that checks its checksum.
//! Only the steady phase is timed. Memory is the process's resident memory (`/proc/self`), above a
//! baseline read after the slot table is made: the peak during the run, and what is left once
//! every block is freed. What is left counts anonymous memory only (the allocator's arenas, heaps
//! and tables), not the pages of code the run read from the executable.

use std::time::Instant;

use crate::XorShift64;
use crate::output::{
    Measured, Outcome, anonymous_resident_bytes, mib, peak_resident_bytes, reset_peak_resident,
    resident_bytes,
};

/// The slots of the trace.
pub const SLOTS: usize = 200_000;
/// The operations of the steady phase.
pub const STEADY: usize = 10_000_000;
/// The trace's seed.
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
/// The FNV-1a-64 of the whole trace's operations.
pub const CHECKSUM: u64 = 0x323b_239f_8b16_0f0d;

/// One size draw: `b = r % 100`, `v = r >> 32`.
#[inline]
pub fn size(r: u64) -> usize {
    let (b, v) = (r % 100, r >> 32);
    (if b < 50 {
        16 + v % 49
    } else if b < 80 {
        65 + v % 64
    } else if b < 95 {
        129 + v % 128
    } else {
        257 + v % 256
    }) as usize
}

/// An allocator the trace can be replayed on.
pub trait TraceAllocator {
    /// A block of at least `size` bytes, 8-aligned at least.
    fn alloc(&mut self, size: usize) -> *mut u8;
    /// Frees a block of `size` bytes.
    ///
    /// # Safety
    /// `p` came from [`alloc`](TraceAllocator::alloc) with this size and is freed once.
    unsafe fn free(&mut self, p: *mut u8, size: usize);
}

/// Replays the whole trace, calling `op(slot, size)` for each operation (size 0 for a free), and
/// returns the operations' FNV-1a-64 and their number.
pub fn checksum() -> (u64, usize) {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut ops = 0usize;
    let mut feed = |slot: usize, size: usize| {
        let word = ((slot as u32) << 10) | size as u32;
        for byte in word.to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        ops += 1;
    };
    let mut rng = XorShift64(SEED);
    let mut live = vec![0usize; SLOTS];
    for (slot, size_of) in live.iter_mut().enumerate() {
        if rng.next_u64() >> 63 == 1 {
            *size_of = size(rng.next_u64());
            feed(slot, *size_of);
        }
    }
    for _ in 0..STEADY {
        let slot = ((rng.next_u64() >> 32) % SLOTS as u64) as usize;
        if live[slot] != 0 {
            live[slot] = 0;
            feed(slot, 0);
        } else {
            live[slot] = size(rng.next_u64());
            feed(slot, live[slot]);
        }
    }
    for (slot, size_of) in live.iter().enumerate() {
        if *size_of != 0 {
            feed(slot, 0);
        }
    }
    (hash, ops)
}

/// Replays the trace on `allocator`: ns per steady operation, and resident memory.
pub fn replay(allocator: &mut dyn TraceAllocator) -> Outcome {
    let (hash, ops) = checksum();
    if hash != CHECKSUM {
        return Outcome::Absent(format!(
            "the trace's checksum is {hash:016x} over {ops} operations, not {CHECKSUM:016x}"
        ));
    }
    let mut slots: Vec<(*mut u8, usize)> = vec![(std::ptr::null_mut(), 0); SLOTS];
    // The table's pages are resident before the baseline is read (a zeroed allocation is not).
    for slot in slots.iter_mut() {
        *std::hint::black_box(slot) = (std::ptr::null_mut(), 1);
    }
    slots.fill((std::ptr::null_mut(), 0));
    let baseline = resident_bytes();
    let anonymous_baseline = anonymous_resident_bytes();
    let peak_known = reset_peak_resident();
    let mut rng = XorShift64(SEED);
    let place = |allocator: &mut dyn TraceAllocator, slot: &mut (*mut u8, usize), s: usize| {
        let p = allocator.alloc(s);
        assert!(!p.is_null(), "out of memory");
        // SAFETY: the block is at least 16 bytes and 8-aligned.
        unsafe { p.cast::<u64>().write(s as u64) };
        *slot = (p, s);
    };
    for slot in slots.iter_mut() {
        if rng.next_u64() >> 63 == 1 {
            let s = size(rng.next_u64());
            place(allocator, slot, s);
        }
    }
    let start = Instant::now();
    for _ in 0..STEADY {
        let index = ((rng.next_u64() >> 32) % SLOTS as u64) as usize;
        let slot = &mut slots[index];
        if !slot.0.is_null() {
            // SAFETY: the block is live and was allocated with this size.
            unsafe { allocator.free(slot.0, slot.1) };
            *slot = (std::ptr::null_mut(), 0);
        } else {
            let s = size(rng.next_u64());
            place(allocator, slot, s);
        }
    }
    let elapsed = start.elapsed();
    let peak = peak_resident_bytes();
    // Each live block still holds the size written into it when it was handed out: two live
    // blocks that overlap, or a block handed out while it was still in use, would not.
    if let Some((index, (p, s))) = slots
        .iter()
        .enumerate()
        // SAFETY: a live block, at least 16 bytes and 8-aligned, written when it was placed.
        .find(|(_, (p, s))| !p.is_null() && unsafe { p.cast::<u64>().read() } != *s as u64)
    {
        // SAFETY: as above.
        let found = unsafe { p.cast::<u64>().read() };
        return Outcome::Absent(format!(
            "wrong: the block of slot {index} ({s} bytes, at {p:?}) no longer holds the {s} \
             written into it but {found}: it overlaps another live block, or was handed out \
             again while still in use"
        ));
    }
    for slot in slots.iter_mut() {
        if !slot.0.is_null() {
            // SAFETY: as above.
            unsafe { allocator.free(slot.0, slot.1) };
            *slot = (std::ptr::null_mut(), 0);
        }
    }
    let after = anonymous_resident_bytes();
    // The live data is about 10 MiB at any time; an allocator that never reuses what was freed
    // takes hundreds of MiB over the 10,000,000 operations.
    let kept = after.saturating_sub(anonymous_baseline);
    if kept > 128 << 20 {
        return Outcome::Absent(format!(
            "wrong: {:.0} MiB still in use after every block was freed, where the live data \
             never exceeds about 10 MiB: freed blocks are not being reused or given back",
            mib(kept)
        ));
    }
    let mut measured = Measured::ns_per_op(elapsed, STEADY)
        .with("resident left after freeing all (MiB)", mib(kept));
    if peak_known {
        measured = measured.with("peak resident (MiB)", mib(peak.saturating_sub(baseline)));
    }
    Outcome::Measured(measured)
}

/// glibc's `malloc` and `free`.
pub struct Glibc;

impl TraceAllocator for Glibc {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        // SAFETY: malloc has no preconditions.
        unsafe { libc::malloc(size) }.cast()
    }
    unsafe fn free(&mut self, p: *mut u8, _size: usize) {
        // SAFETY: the caller's promise: `p` came from malloc and is freed once.
        unsafe { libc::free(p.cast()) }
    }
}

/// mimalloc's `mi_malloc` and `mi_free`.
pub struct Mimalloc;

impl TraceAllocator for Mimalloc {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        // SAFETY: mi_malloc has no preconditions.
        unsafe { libmimalloc_sys::mi_malloc(size) }.cast()
    }
    unsafe fn free(&mut self, p: *mut u8, _size: usize) {
        // SAFETY: the caller's promise: `p` came from mi_malloc and is freed once.
        unsafe { libmimalloc_sys::mi_free(p.cast()) }
    }
}

/// CPython's obmalloc, through libpython.
pub struct Cpython(pub crate::cpython::Obmalloc);

impl TraceAllocator for Cpython {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        self.0.malloc(size)
    }
    unsafe fn free(&mut self, p: *mut u8, _size: usize) {
        // SAFETY: the caller's promise.
        unsafe { self.0.free(p) }
    }
}

/// Lab 02's pymalloc, as a library (`PyMalloc::malloc` and `free`).
pub struct Pymalloc(pub crate::lab02_impl::pymalloc::PyMalloc);

impl TraceAllocator for Pymalloc {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        self.0
            .malloc(size)
            .map_or(std::ptr::null_mut(), |p| p.as_ptr())
    }
    unsafe fn free(&mut self, p: *mut u8, _size: usize) {
        if let Some(p) = std::ptr::NonNull::new(p) {
            // SAFETY: the caller's promise: `p` came from this pymalloc and is freed once.
            unsafe { self.0.free(p) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Outcome, TraceAllocator, replay};

    /// Hands out the blocks of a small table in turn, whether or not they were freed: two live
    /// slots soon share a block.
    struct Recycling {
        blocks: Vec<[u64; 64]>,
        next: usize,
    }

    impl TraceAllocator for Recycling {
        fn alloc(&mut self, _size: usize) -> *mut u8 {
            self.next = (self.next + 1) % self.blocks.len();
            self.blocks[self.next].as_mut_ptr().cast()
        }
        unsafe fn free(&mut self, _p: *mut u8, _size: usize) {}
    }

    /// glibc's `malloc`, and a `free` that does nothing.
    struct Leaking;

    impl TraceAllocator for Leaking {
        fn alloc(&mut self, size: usize) -> *mut u8 {
            // SAFETY: malloc has no preconditions; the trace checks for null.
            unsafe { libc::malloc(size) }.cast()
        }
        unsafe fn free(&mut self, _p: *mut u8, _size: usize) {}
    }

    fn absent(outcome: Outcome) -> String {
        match outcome {
            Outcome::Absent(why) => why,
            Outcome::Measured(_) => {
                panic!("the replay measured an allocator it should have refused")
            }
        }
    }

    #[test]
    fn a_block_handed_out_twice_is_refused() {
        let why = absent(replay(&mut Recycling {
            blocks: vec![[0; 64]; 1000],
            next: 0,
        }));
        assert!(why.starts_with("wrong: the block of slot"), "{why}");
    }

    #[test]
    fn an_allocator_that_never_frees_is_refused() {
        let why = absent(replay(&mut Leaking));
        assert!(
            why.contains("still in use after every block was freed"),
            "{why}"
        );
    }
}
