//! Graded tests for lab 02 part (c): the trace driver.
//!
//! In the order of the chapter's tasks: reading and writing the trace format, the checks of a
//! replay (each proved by a small allocator broken on purpose, defined here, which the replay must
//! catch at the right step), the utilisation, workload A, and the shipped traces: replayed by your
//! driver on the C library's allocator, then on your pymalloc next to the reference's, step by
//! step (that last test uses the reference's driver, so that it grades your pymalloc alone).

use std::collections::HashMap;
use std::ptr::NonNull;

use pools::trace::{Op, Report, Trace, WorkloadA, checksum, replay_checked};
use pools::{Allocator, SystemAllocator};
use testkit::assert_expected;

/// The traces shipped in `labs/02-pools/traces/`, by name.
const SHIPPED: &[(&str, &str)] = &[
    ("one-block", include_str!("../traces/one-block.trace")),
    ("size-classes", include_str!("../traces/size-classes.trace")),
    ("fill-a-pool", include_str!("../traces/fill-a-pool.trace")),
    ("pool-empties", include_str!("../traces/pool-empties.trace")),
    ("lifo-reuse", include_str!("../traces/lifo-reuse.trace")),
    (
        "arena-released",
        include_str!("../traces/arena-released.trace"),
    ),
    (
        "one-survivor-pins-the-arena",
        include_str!("../traces/one-survivor-pins-the-arena.trace"),
    ),
    (
        "realloc-shrink-grow",
        include_str!("../traces/realloc-shrink-grow.trace"),
    ),
    (
        "large-requests",
        include_str!("../traces/large-requests.trace"),
    ),
];

/// A trace made of `ops`, without going through the parser.
fn trace(ops: &[Op]) -> Trace {
    Trace {
        name: "test".to_string(),
        ops: ops.to_vec(),
    }
}

fn alloc(id: usize, size: usize) -> Op {
    Op::Alloc { id, size }
}

fn free(id: usize) -> Op {
    Op::Free { id }
}

fn realloc(id: usize, size: usize) -> Op {
    Op::Realloc { id, size }
}

/// An `after_step` that checks nothing.
fn nothing<A>(_: usize, _: &Op, _: &A) -> Result<(), String> {
    Ok(())
}

#[test]
fn parse_reads_the_documented_format() {
    let text = "\
# A comment, then a blank line.

a 1 24
a 2 32      # a comment after an operation
r 1 100
\tf   2\t
# id 2 is free again, so it may be allocated again
a 2 0
f 1
f 2
";
    let parsed = Trace::parse("example", text)
        .unwrap_or_else(|e| panic!("the example trace was refused ({e}): expected it to parse"));
    assert_expected(
        "the name of the parsed trace",
        &"example",
        &parsed.name.as_str(),
    );
    assert_expected(
        "the operations of the example trace",
        &vec![
            alloc(1, 24),
            alloc(2, 32),
            realloc(1, 100),
            free(2),
            alloc(2, 0),
            free(1),
            free(2),
        ],
        &parsed.ops,
    );
    let empty = Trace::parse("empty", "# nothing here\n\n   \n").unwrap_or_else(|e| {
        panic!("a trace of comments and blank lines was refused ({e}): expected no operations")
    });
    assert_expected(
        "the operations of a trace of comments and blank lines",
        &Vec::<Op>::new(),
        &empty.ops,
    );
}

#[test]
fn parse_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("a 1 16\nx 1\n", 2, "an unknown operation"),
        ("a 1 16\nf 1 16\n", 2, "`f` with two fields"),
        ("# header\na 1\n", 2, "`a` without a size"),
        ("a 1 16\nr 1\n", 2, "`r` without a size"),
        ("a 1 16\n\nf\n", 3, "`f` without an id"),
        ("a 1 sixteen\n", 1, "a size that is not a number"),
        ("a 1 -16\n", 1, "a negative size"),
        ("a 1.5 16\n", 1, "an id that is not a whole number"),
        ("a 1 16\na 2 16\na 1 32\n", 3, "allocating a live id"),
        ("a 1 16\nf 2\n", 2, "freeing an id never allocated"),
        ("a 1 16\nf 1\nf 1\n", 3, "freeing an id twice"),
        ("a 1 16\nf 1\n# comment\nr 1 32\n", 4, "resizing a freed id"),
    ];
    for &(text, line, what) in cases {
        let error = match Trace::parse("bad", text) {
            Ok(trace) => panic!(
                "{what} was accepted, as {:?}: expected a ParseError at line {line} of\n{text}",
                trace.ops
            ),
            Err(error) => error,
        };
        assert_expected(
            &format!("the line of the error for {what} (`{error}`) in\n{text}"),
            &line,
            &error.line,
        );
        let shown = error.to_string();
        assert!(
            shown.starts_with(&format!("line {line}: ")) && shown.len() > 12,
            "{what}: the error reads `{shown}`: expected `line {line}: ` and what was wrong"
        );
    }
}

#[test]
fn to_text_round_trips() {
    let mut traces: Vec<Trace> = (1..=20).map(|seed| Trace::random(seed, 300)).collect();
    traces.push(Trace::workload_a(500, 2_000));
    traces.push(trace(&[alloc(7, 0), realloc(7, 1 << 40), free(7)]));
    for original in traces {
        let text = original.to_text();
        let back = Trace::parse(&original.name, &text).unwrap_or_else(|e| {
            panic!(
                "the text of trace {} does not parse ({e}): expected it to",
                original.name
            )
        });
        assert_expected(
            &format!("trace {} read back from its text", original.name),
            &original,
            &back,
        );
    }
}

/// A block allocator that gets it wrong on purpose, wrapping the C library's: `Misaligned` and
/// `Overlapping` misplace the block of their `nth` malloc (counted from 0), `Corrupting`
/// overwrites byte 5 of the first block at its `nth` malloc, `Forgetful` resizes by allocating
/// a new (zeroed) block without copying.
#[derive(Debug)]
enum Broken {
    Misaligned { nth: usize },
    Overlapping { nth: usize },
    Corrupting { nth: usize },
    Forgetful,
}

struct BrokenAllocator {
    how: Broken,
    system: SystemAllocator,
    mallocs: usize,
    first: Option<NonNull<u8>>,
    /// For blocks that were moved from what the system returned: the system's pointer.
    moved: HashMap<usize, NonNull<u8>>,
}

impl BrokenAllocator {
    fn new(how: Broken) -> Self {
        BrokenAllocator {
            how,
            system: SystemAllocator,
            mallocs: 0,
            first: None,
            moved: HashMap::new(),
        }
    }
}

impl Allocator for BrokenAllocator {
    fn name(&self) -> &'static str {
        "broken"
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        let nth = self.mallocs;
        self.mallocs += 1;
        let block = match self.how {
            Broken::Misaligned { nth: bad } if nth == bad => {
                let real = self.system.malloc(size + 8)?;
                // SAFETY: the block has `size + 8` bytes, so 8 bytes in is still inside it.
                let shifted = unsafe { real.add(8) };
                self.moved.insert(shifted.as_ptr() as usize, real);
                shifted
            }
            Broken::Overlapping { nth: bad } if nth == bad => {
                // The first block again, 16 bytes in: the replay must refuse it before it
                // writes a single byte there.
                let first = self.first.expect("a block before the broken one");
                // SAFETY: the first block has at least 32 bytes in the test below.
                unsafe { first.add(16) }
            }
            Broken::Corrupting { nth: bad } if nth == bad => {
                let first = self.first.expect("a block before the broken one");
                // SAFETY: the first block is live and has at least 6 bytes in the test below.
                unsafe { first.add(5).write(!first.add(5).read()) };
                self.system.malloc(size)?
            }
            _ => self.system.malloc(size)?,
        };
        self.first.get_or_insert(block);
        Some(block)
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        let real = self.moved.remove(&(ptr.as_ptr() as usize)).unwrap_or(ptr);
        // SAFETY: `real` is what the system returned for this block, not freed yet.
        unsafe { self.system.free(real) }
    }

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        if let Broken::Forgetful = self.how {
            let block = self.system.malloc(new_size)?;
            // Zeroed rather than left uninitialised, so that the driver's check reads defined
            // bytes (Miri would call reading uninitialised ones undefined behaviour).
            // SAFETY: the block has `new_size` bytes.
            unsafe { block.write_bytes(0, new_size) };
            // SAFETY: as for `free`: the caller gives up `ptr`.
            unsafe { self.free(ptr) };
            return Some(block);
        }
        let real = self.moved.remove(&(ptr.as_ptr() as usize)).unwrap_or(ptr);
        // SAFETY: `real` is what the system returned for this block, not freed yet.
        unsafe { self.system.realloc(real, new_size) }
    }
}

/// Replays `ops` on an allocator broken as `how`, which the replay must catch.
#[track_caller]
fn replay_broken(how: Broken, ops: &[Op]) -> pools::trace::ReplayError {
    let what = format!("{how:?}");
    match replay_checked(&trace(ops), &mut BrokenAllocator::new(how), nothing) {
        Ok(report) => panic!(
            "the replay on the {what} allocator succeeded ({report}): expected it to stop with an \
             error"
        ),
        Err(error) => error,
    }
}

/// The ops of the broken-allocator tests: blocks of 64 bytes, three of them live at once.
fn four_blocks() -> Vec<Op> {
    vec![
        alloc(1, 64),
        alloc(2, 64),
        alloc(3, 64),
        free(2),
        alloc(4, 64),
        free(1),
        free(3),
        free(4),
    ]
}

/// Checks that the replay stopped at `step` with operation `op` (`None` for the check after the
/// last step), and that its message starts as `ReplayError`'s `Display` says.
#[track_caller]
fn stopped_at(what: &str, error: &pools::trace::ReplayError, step: usize, op: Option<Op>) {
    assert_expected(
        &format!("where the replay stopped, as (step, operation), {what}; it said `{error}`"),
        &(step, op),
        &(error.step, error.op),
    );
}

#[test]
fn replay_detects_an_overlapping_block() {
    // The third malloc returns an address inside block 1, which is live.
    let error = replay_broken(Broken::Overlapping { nth: 2 }, &four_blocks());
    stopped_at(
        "when the third malloc returned a block inside block 1 (live)",
        &error,
        2,
        Some(alloc(3, 64)),
    );
    assert!(
        error.message.contains("block 1"),
        "the error reads `{error}`: expected it to name block 1, the live block overlapped"
    );
}

#[test]
fn replay_detects_a_corrupted_payload() {
    let error = replay_broken(Broken::Corrupting { nth: 3 }, &four_blocks());
    stopped_at(
        "when the fourth malloc flipped byte 5 of block 1: `f 1` must notice it",
        &error,
        5,
        Some(free(1)),
    );
    assert!(
        error.message.contains("byte 5") && error.message.contains("block 1"),
        "the error reads `{error}`: expected it to name byte 5 of block 1"
    );
}

#[test]
fn replay_detects_a_misaligned_block() {
    let error = replay_broken(Broken::Misaligned { nth: 2 }, &four_blocks());
    stopped_at(
        "when the third malloc returned a block 8 bytes off a multiple of 16",
        &error,
        2,
        Some(alloc(3, 64)),
    );
    assert!(
        error.to_string().starts_with("step 2 (`a 3 64`): "),
        "the error reads `{error}`: expected it to start with \"step 2 (`a 3 64`): \""
    );
}

#[test]
fn replay_detects_a_realloc_that_loses_bytes() {
    let ops = [
        alloc(1, 64),
        alloc(2, 32),
        realloc(1, 128),
        free(2),
        free(1),
    ];
    let error = replay_broken(Broken::Forgetful, &ops);
    stopped_at(
        "when the resize of block 1 did not copy its 64 bytes",
        &error,
        2,
        Some(realloc(1, 128)),
    );
}

#[test]
fn replay_checks_every_live_block_at_the_end() {
    // Block 1 is never freed: only the final check can see that it was overwritten.
    let ops = [
        alloc(1, 64),
        alloc(2, 16),
        free(2),
        alloc(3, 16),
        alloc(4, 16),
    ];
    let error = replay_broken(Broken::Corrupting { nth: 3 }, &ops);
    stopped_at(
        "when block 1, never freed, was overwritten at the last step: the check after the last \
         step (no operation)",
        &error,
        5,
        None,
    );
    assert!(
        error.message.contains("block 1"),
        "the error reads `{error}`: expected it to name block 1"
    );
}

/// A fake allocator whose footprint is easy to compute by hand: each live block costs its size
/// rounded up to a multiple of 64 (at least 64). The blocks come from the C library.
#[derive(Default)]
struct Rounding {
    system: SystemAllocator,
    sizes: HashMap<usize, usize>,
}

impl Rounding {
    fn cost(size: usize) -> usize {
        size.max(1).next_multiple_of(64)
    }
}

impl Allocator for Rounding {
    fn name(&self) -> &'static str {
        "rounding"
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        let block = self.system.malloc(size)?;
        self.sizes.insert(block.as_ptr() as usize, size);
        Some(block)
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        self.sizes.remove(&(ptr.as_ptr() as usize));
        // SAFETY: the caller's promise is passed on.
        unsafe { self.system.free(ptr) }
    }

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        self.sizes.remove(&(ptr.as_ptr() as usize));
        // SAFETY: the caller's promise is passed on.
        let block = unsafe { self.system.realloc(ptr, new_size) }?;
        self.sizes.insert(block.as_ptr() as usize, new_size);
        Some(block)
    }

    fn footprint(&self) -> Option<usize> {
        Some(self.sizes.values().map(|&s| Rounding::cost(s)).sum())
    }
}

/// The system allocator, with no footprint to tell.
struct Silent(SystemAllocator);

impl Allocator for Silent {
    fn name(&self) -> &'static str {
        "silent"
    }
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.0.malloc(size)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: the caller's promise is passed on.
        unsafe { self.0.free(ptr) }
    }
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: the caller's promise is passed on.
        unsafe { self.0.realloc(ptr, new_size) }
    }
}

/// A fake allocator that packs blocks back to back in a buffer of its own, each rounded up to 16
/// bytes, never reusing one: upward (each block right after the last) or downward (each right
/// before it). Blocks touch, and never overlap.
struct Packed {
    buffer: Vec<u128>,
    /// Bytes handed out so far.
    used: usize,
    downward: bool,
}

impl Packed {
    fn new(downward: bool) -> Packed {
        Packed {
            buffer: vec![0; 4096],
            used: 0,
            downward,
        }
    }
}

impl Allocator for Packed {
    fn name(&self) -> &'static str {
        "packed"
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        let take = size.max(1).next_multiple_of(16);
        let bytes = self.buffer.len() * 16;
        if self.used + take > bytes {
            return None;
        }
        let offset = if self.downward {
            bytes - self.used - take
        } else {
            self.used
        };
        self.used += take;
        // SAFETY: `offset + take` is within the buffer, which lives as long as `self`.
        NonNull::new(unsafe { self.buffer.as_mut_ptr().cast::<u8>().add(offset) })
    }

    unsafe fn free(&mut self, _ptr: NonNull<u8>) {}

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        let fresh = self.malloc(new_size)?;
        // SAFETY: the old block is live and at least as long as what the replay wrote into it
        // (its size, which is at most `new_size` here or copied only as far as the smaller);
        // the new block is fresh, so they do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(ptr.as_ptr(), fresh.as_ptr(), new_size) };
        Some(fresh)
    }
}

#[test]
fn utilisation_is_peak_live_over_peak_footprint() {
    // Each block costs its size rounded up to 64 bytes in the `Rounding` allocator's footprint.
    //                   live after the step   footprint after the step
    let ops = [
        alloc(1, 100),  // 100                  128
        alloc(2, 28),   // 128 (peak)           128 + 64 = 192 (peak)
        free(1),        // 28                   64
        alloc(3, 60),   // 88                   128
        realloc(3, 20), // 48                   128
    ];
    let report = replay_checked(&trace(&ops), &mut Rounding::default(), nothing)
        .unwrap_or_else(|e| panic!("the replay on the rounding allocator stopped: {e}"));
    assert_expected(
        "the report of the replay on the rounding allocator",
        &Report {
            ops: 5,
            peak_live_bytes: 128,
            peak_footprint: Some(192),
            utilisation: Some(128.0 / 192.0),
        },
        &report,
    );
    let silent = replay_checked(&trace(&ops), &mut Silent(SystemAllocator), nothing)
        .unwrap_or_else(|e| panic!("the replay on the silent allocator stopped: {e}"));
    assert_expected(
        "(peak live bytes, peak footprint, utilisation) of an allocator that does not tell its \
         footprint: no utilisation",
        &(128, None, None),
        &(
            silent.peak_live_bytes,
            silent.peak_footprint,
            silent.utilisation,
        ),
    );
    assert_expected(
        "utilisation(0, Some(0)), an allocator that held nothing: a footprint of 0 has no \
         utilisation (0 / 0 is not a share)",
        &None,
        &pools::trace::utilisation(0, Some(0)),
    );
}

#[test]
#[cfg_attr(miri, ignore = "10 million operations: hours under Miri")]
fn workload_a_matches_its_checksum_and_replays_cleanly() {
    // The full workload, 10.2 million operations, checked as a stream.
    let mut counts = [0usize; 3];
    let mut ops = WorkloadA::new(WorkloadA::SLOTS, WorkloadA::STEADY_OPS);
    let stream = std::iter::from_fn(|| {
        let op = ops.next()?;
        counts[ops.phase() as usize] += 1;
        Some(op)
    });
    let sum = checksum(stream);
    assert_expected(
        "the checksum of workload A's 10.2 million operations (the generator is given)",
        &format!("{:016x}", WorkloadA::CHECKSUM),
        &format!("{sum:016x}"),
    );
    assert_expected(
        "operations in the prefill, steady and teardown phases",
        &[100_182, 10_000_000, 100_210],
        &counts,
    );

    // A small one, replayed with every check; its peak live payload computed here.
    let small = Trace::workload_a(2_000, 20_000);
    let (mut live, mut peak, mut sizes) = (0usize, 0usize, HashMap::new());
    for op in &small.ops {
        match *op {
            Op::Alloc { id, size } => {
                sizes.insert(id, size);
                live += size;
            }
            Op::Free { id } => live -= sizes[&id],
            Op::Realloc { .. } => unreachable!("workload A never resizes"),
        }
        peak = peak.max(live);
    }
    let mut steps = 0;
    let report = replay_checked(&small, &mut SystemAllocator, |step, _, _| {
        assert_expected(
            "the step after_step is called for: once per step, in order",
            &steps,
            &step,
        );
        steps += 1;
        Ok(())
    })
    .unwrap_or_else(|e| panic!("the replay of a small workload A stopped: {e}"));
    assert_expected(
        "calls of after_step: one per step",
        &small.ops.len(),
        &steps,
    );
    assert_expected(
        "(operations, peak live bytes) in the report of the small workload A",
        &(small.ops.len(), peak),
        &(report.ops, report.peak_live_bytes),
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "SystemAllocator's footprint calls glibc's mallinfo2, which Miri lacks"
)]
fn shipped_traces_replay_cleanly_on_the_system_allocator() {
    for &(name, text) in SHIPPED {
        let trace = Trace::parse(name, text).unwrap_or_else(|e| {
            panic!("{name}.trace was refused by your parser ({e}): expected it to parse")
        });
        assert!(
            !trace.ops.is_empty(),
            "{name}.trace parsed as no operations: expected its operations"
        );
        let mut steps = 0;
        let report = replay_checked(&trace, &mut SystemAllocator, |_, _, _| {
            steps += 1;
            Ok(())
        })
        .unwrap_or_else(|e| {
            panic!("the replay of {name}.trace on the C library stopped ({e}): expected none")
        });
        assert_expected(
            &format!("operations in the report of {name}.trace"),
            &trace.ops.len(),
            &report.ops,
        );
        assert_expected(
            &format!("calls of after_step in the replay of {name}.trace: one per step"),
            &trace.ops.len(),
            &steps,
        );
        assert!(
            report.peak_footprint.is_some(),
            "the report of {name}.trace has no peak footprint ({report}): expected the C \
             library's"
        );
    }
    for seed in 1..=20 {
        let trace = Trace::random(seed, 500);
        replay_checked(&trace, &mut SystemAllocator, nothing).unwrap_or_else(|e| {
            panic!(
                "the replay of {} on the C library stopped ({e}): expected none",
                trace.name
            )
        });
    }
    // Blocks that touch (one ends where the next begins) do not overlap, on either side.
    for downward in [false, true] {
        let side = if downward { "below" } else { "above" };
        if let Err(e) = replay_checked(&trace(&four_blocks()), &mut Packed::new(downward), nothing)
        {
            panic!(
                "the replay on an allocator that packs each block right {side} the last stopped \
                 with `{e}`: blocks that only touch do not overlap"
            );
        }
    }
}

/// Your pymalloc, seen through the reference's `Allocator` trait so that the reference's driver
/// can replay it; it remembers the block it returned last, to be located after the step.
struct Yours {
    heap: pools::pymalloc::PyMalloc,
    last: Option<NonNull<u8>>,
}

impl reference::Allocator for Yours {
    fn name(&self) -> &'static str {
        "yours"
    }

    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        self.last = self.heap.malloc(size);
        self.last
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        // SAFETY: the driver keeps the contract of `Allocator::free`, which is `PyMalloc::free`'s.
        unsafe { self.heap.free(ptr) }
    }

    unsafe fn realloc(&mut self, ptr: NonNull<u8>, new_size: usize) -> Option<NonNull<u8>> {
        // SAFETY: as for `free`.
        self.last = unsafe { self.heap.realloc(ptr, new_size) };
        self.last
    }
}

/// The reference pymalloc, given the same operations as yours, step by step.
struct Mirror {
    heap: reference::pymalloc::PyMalloc,
    blocks: HashMap<usize, NonNull<u8>>,
}

impl Mirror {
    /// Performs `op`; returns the block it allocated or resized, if any.
    fn apply(&mut self, op: &reference::trace::Op) -> Option<NonNull<u8>> {
        use reference::trace::Op as RefOp;
        match *op {
            RefOp::Alloc { id, size } => {
                let block = self
                    .heap
                    .malloc(size)
                    .expect("the reference ran out of memory");
                self.blocks.insert(id, block);
                Some(block)
            }
            RefOp::Free { id } => {
                let block = self.blocks.remove(&id).expect("a live block");
                // SAFETY: the block came from this heap and is freed once.
                unsafe { self.heap.free(block) };
                None
            }
            RefOp::Realloc { id, size } => {
                let block = self.blocks[&id];
                // SAFETY: the block came from this heap and is live; only the result is kept.
                let moved = unsafe { self.heap.realloc(block, size) }.expect("memory");
                self.blocks.insert(id, moved);
                Some(moved)
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "arenas come from os::map_aligned, which unmaps part of a mapping"
)]
fn shipped_traces_replay_on_your_pymalloc_as_on_the_reference() {
    for &(name, text) in SHIPPED {
        let trace = reference::trace::Trace::parse(name, text)
            .unwrap_or_else(|e| panic!("{name}.trace: {e}"));
        let mut mirror = Mirror {
            heap: reference::pymalloc::PyMalloc::new(),
            blocks: HashMap::new(),
        };
        let mut yours = Yours {
            heap: pools::pymalloc::PyMalloc::new(),
            last: None,
        };
        let compare = |_: usize, op: &reference::trace::Op, yours: &Yours| {
            let expected = mirror.apply(op);
            if let Some(block) = expected {
                let place = |l: pools::pymalloc::Location| (l.arena, l.pool, l.block);
                let theirs = mirror.heap.locate(block.as_ptr());
                let theirs = theirs.map(|l| (l.arena, l.pool, l.block));
                let got = yours
                    .last
                    .and_then(|b| yours.heap.locate(b.as_ptr()))
                    .map(place);
                if got != theirs {
                    return Err(format!(
                        "block {} is at {} in yours, expected (reference) at {} (arena, pool, \
                         block; `system` for a block of the C library)",
                        op.id(),
                        show(got),
                        show(theirs),
                    ));
                }
            }
            let (got, theirs) = (
                yours.heap.stats().to_string(),
                mirror.heap.stats().to_string(),
            );
            if got != theirs {
                return Err(format!(
                    "the statistics differ (< expected (reference), > yours):\n{}",
                    pretty_assertions::StrComparison::new(&theirs, &got)
                ));
            }
            yours
                .heap
                .check_invariants()
                .map_err(|why| format!("an invariant of your pymalloc broke: {why}"))
        };
        reference::trace::replay_checked(&trace, &mut yours, compare).unwrap_or_else(|e| {
            panic!("{name}.trace on your pymalloc, replayed by the reference's driver: {e}")
        });
    }
}

/// A location as `(arena, pool, block)`, or `system`.
fn show(place: Option<(usize, usize, usize)>) -> String {
    place.map_or("system".to_string(), |(a, p, b)| format!("({a}, {p}, {b})"))
}
