//! Traces generated from a seed: workload A of the course's benchmarks, and small random traces.
//!
//! Provided, not a task: workload A is defined exactly (in `docs/workloads.md`) so that any
//! allocator, here or in another language, replays the same operations, and its checksum proves
//! it. Do not change it.

use super::{Op, Trace};

/// xorshift64 (Marsaglia): `x ^= x << 13; x ^= x >> 7; x ^= x << 17`. Small, fast, and the same
/// sequence on every machine, so a seed names a trace anywhere.
#[derive(Debug, Clone)]
pub struct XorShift64 {
    state: u64,
}

impl XorShift64 {
    /// A generator started at `seed` (0, which xorshift would never leave, is replaced by
    /// [`WorkloadA::SEED`]).
    pub fn new(seed: u64) -> XorShift64 {
        XorShift64 {
            state: if seed == 0 { WorkloadA::SEED } else { seed },
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    /// A number in `0..n` (`n` > 0), from the high 32 bits of one step.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0) has no value to return");
        ((self.next_u64() >> 32) % n as u64) as usize
    }
}

/// Which part of workload A an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Each slot in order is allocated with probability 1/2.
    Prefill,
    /// Random slots are freed if live, allocated if not: the live set stays near half the slots.
    Steady,
    /// Every live slot is freed, in slot order.
    Teardown,
}

/// Workload A of `docs/workloads.md`, as an iterator of operations: the small-object traffic of
/// a Python-like program, objects of 16 to 512 bytes, half of them below 65 bytes.
///
/// * Seed [`WorkloadA::SEED`]. Size draw, from one step `r`: `b = r % 100`, `v = r >> 32`;
///   `b < 50`: `16 + v % 49`; `b < 80`: `65 + v % 64`; `b < 95`: `129 + v % 128`; else
///   `257 + v % 256`.
/// * Prefill: for each slot in order, if `rng.next() >> 63 == 1`, allocate it (a size draw).
/// * Steady: `steady_ops` times, `s = (rng.next() >> 32) % slots`; free slot `s` if it is live,
///   else allocate it (a size draw).
/// * Teardown: free every live slot, in slot order.
///
/// The id of an operation is its slot. An iterator rather than a vector, so that the full size
/// (10.2 million operations) can be checked without holding it in memory:
///
/// ```
/// use pools::trace::{Op, WorkloadA};
///
/// let ops: Vec<Op> = WorkloadA::new(1000, 10_000).collect();
/// let allocations = ops.iter().filter(|op| matches!(op, Op::Alloc { .. })).count();
/// assert_eq!(ops.len(), 2 * allocations); // every block is freed by the end
/// assert!(ops.iter().all(|op| op.id() < 1000));
/// ```
#[derive(Debug, Clone)]
pub struct WorkloadA {
    rng: XorShift64,
    /// Whether each slot is live.
    live: Vec<bool>,
    /// How many steady operations the workload has.
    steady_ops: usize,
    stage: Stage,
    /// The phase of the operation returned last.
    phase: Phase,
}

/// Where the generator is: the next slot to visit, or the steady operations left.
#[derive(Debug, Clone, Copy)]
enum Stage {
    Prefill { next_slot: usize },
    Steady { left: usize },
    Teardown { next_slot: usize },
}

impl WorkloadA {
    /// The seed of workload A.
    pub const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
    /// The number of slots of the full workload.
    pub const SLOTS: usize = 200_000;
    /// The number of steady operations of the full workload.
    pub const STEADY_OPS: usize = 10_000_000;
    /// [`checksum`] of the full workload (`SLOTS`, `STEADY_OPS`): 100,182 prefill, 10,000,000
    /// steady and 100,210 teardown operations.
    pub const CHECKSUM: u64 = 0x323b_239f_8b16_0f0d;

    /// The workload with `slots` slots and `steady_ops` steady operations.
    pub fn new(slots: usize, steady_ops: usize) -> WorkloadA {
        assert!(slots > 0, "workload A needs at least one slot");
        WorkloadA {
            rng: XorShift64::new(WorkloadA::SEED),
            live: vec![false; slots],
            steady_ops,
            stage: Stage::Prefill { next_slot: 0 },
            phase: Phase::Prefill,
        }
    }

    /// The phase of the operation [`next`](Iterator::next) returned last ([`Phase::Prefill`]
    /// before the first).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// One size draw: 16..=64 bytes half of the time, 65..=128 30%, 129..=256 15%, 257..=512 5%.
    fn size(&mut self) -> usize {
        let r = self.rng.next_u64();
        let (b, v) = ((r % 100) as usize, (r >> 32) as usize);
        match b {
            0..50 => 16 + v % 49,
            50..80 => 65 + v % 64,
            80..95 => 129 + v % 128,
            _ => 257 + v % 256,
        }
    }
}

impl Iterator for WorkloadA {
    type Item = Op;

    fn next(&mut self) -> Option<Op> {
        let slots = self.live.len();
        loop {
            match self.stage {
                Stage::Prefill { next_slot } if next_slot < slots => {
                    self.stage = Stage::Prefill {
                        next_slot: next_slot + 1,
                    };
                    if self.rng.next_u64() >> 63 == 1 {
                        self.live[next_slot] = true;
                        self.phase = Phase::Prefill;
                        return Some(Op::Alloc {
                            id: next_slot,
                            size: self.size(),
                        });
                    }
                }
                Stage::Prefill { .. } => {
                    self.stage = Stage::Steady {
                        left: self.steady_ops,
                    };
                }
                Stage::Steady { left } if left > 0 => {
                    self.stage = Stage::Steady { left: left - 1 };
                    self.phase = Phase::Steady;
                    let slot = self.rng.below(slots);
                    return Some(if self.live[slot] {
                        self.live[slot] = false;
                        Op::Free { id: slot }
                    } else {
                        self.live[slot] = true;
                        Op::Alloc {
                            id: slot,
                            size: self.size(),
                        }
                    });
                }
                Stage::Steady { .. } => self.stage = Stage::Teardown { next_slot: 0 },
                Stage::Teardown { next_slot } if next_slot < slots => {
                    self.stage = Stage::Teardown {
                        next_slot: next_slot + 1,
                    };
                    if self.live[next_slot] {
                        self.live[next_slot] = false;
                        self.phase = Phase::Teardown;
                        return Some(Op::Free { id: next_slot });
                    }
                }
                Stage::Teardown { .. } => return None,
            }
        }
    }
}

/// The check of workload A: FNV-1a-64 over the operations, each encoded as the little-endian
/// `u32` `(id << 10) | size`, with size 0 for a free.
///
/// Panics on an operation the encoding cannot hold: a resize, an id of 2^22 or more, a size of
/// 1024 or more, or an allocation of 0 bytes (which would read as a free).
pub fn checksum(ops: impl IntoIterator<Item = Op>) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET_BASIS;
    for op in ops {
        let (id, size) = match op {
            Op::Alloc { id, size } if (1..1024).contains(&size) => (id, size),
            Op::Free { id } => (id, 0),
            _ => panic!("`{op}` cannot be encoded in workload A's checksum"),
        };
        assert!(
            id < 1 << 22,
            "`{op}`: workload A's checksum encodes ids below 2^22"
        );
        let word = ((id << 10) | size) as u32;
        for byte in word.to_le_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

impl Trace {
    /// Workload A with `slots` slots and `steady_ops` steady operations, as a trace named
    /// `workload-a-<slots>-<steady_ops>`. The full size ([`WorkloadA::SLOTS`],
    /// [`WorkloadA::STEADY_OPS`]) is 10.2 million operations (245 MB as a vector): to check or
    /// replay it without holding it, iterate a [`WorkloadA`] instead.
    pub fn workload_a(slots: usize, steady_ops: usize) -> Trace {
        Trace {
            name: format!("workload-a-{slots}-{steady_ops}"),
            ops: WorkloadA::new(slots, steady_ops).collect(),
        }
    }

    /// A small random trace of exactly `ops` operations on up to 32 live blocks, named
    /// `random-<seed>`: mostly sizes of 1 to 512 bytes, some of 0 and some above 512 (which
    /// pymalloc passes to the system), and resizes between all of them. Blocks still live at the
    /// end are left live.
    pub fn random(seed: u64, ops: usize) -> Trace {
        const IDS: usize = 32;
        let mut rng = XorShift64::new(seed);
        let size = |rng: &mut XorShift64| match rng.below(100) {
            0..5 => 0,
            5..85 => 1 + rng.below(512),
            85..95 => 513 + rng.below(3584),
            _ => 16 * (1 + rng.below(32)),
        };
        let mut live = [false; IDS];
        let mut trace = Vec::with_capacity(ops);
        for _ in 0..ops {
            let id = rng.below(IDS);
            let op = if !live[id] {
                live[id] = true;
                Op::Alloc {
                    id,
                    size: size(&mut rng),
                }
            } else if rng.below(4) == 0 {
                Op::Realloc {
                    id,
                    size: size(&mut rng),
                }
            } else {
                live[id] = false;
                Op::Free { id }
            };
            trace.push(op);
        }
        Trace {
            name: format!("random-{seed:#x}"),
            ops: trace,
        }
    }
}
