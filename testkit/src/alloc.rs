//! A checking allocator for graded tests: the use after free, the double free and the leak that
//! reading counts alone cannot see, caught without Miri.
//!
//! A test binary installs it as its global allocator:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: testkit::alloc::Checking = testkit::alloc::Checking;
//! ```
//!
//! and wraps the code under test in [`checked`], which says in the book's words what a misuse of
//! freed memory or a leak means for this lab. Three things happen to every block:
//!
//! * **It carries a header** just before it (its size and whether it is alive), so that freeing a
//!   block twice, or freeing a pointer no allocation returned, is seen at once.
//! * **It is poisoned and held back when freed.** Its bytes are overwritten with [`POISON`] and it
//!   goes into a quarantine of recently freed blocks instead of back to the system, so that no
//!   later allocation reuses it. Code that still reads it sees poison (a count of
//!   `0xdbdbdbdbdbdbdbdb`, say), and code that writes it leaves a mark: when the block leaves the
//!   quarantine, or when [`checked`] ends, every byte must still be poison.
//! * **It is counted**, per thread (libtest runs each test on a thread of its own), in blocks and
//!   bytes, with the peak, so that a test can ask "did this release all it held?" and "how much
//!   extra memory did this need?" ([`Mark`]).
//!
//! An allocator must never panic (unwinding out of one is undefined behaviour), so what it finds
//! is written down and reported by [`checked`], on the test's own thread, when the code under test
//! returns. A double free is not carried out, and freed blocks stay mapped in quarantine: a test
//! that misuses memory fails with a sentence, not a crash.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What a freed block's bytes are set to.
pub const POISON: u8 = 0xDB;
/// How many freed blocks the quarantine holds before the oldest goes back to the system.
const QUARANTINE_BLOCKS: usize = 4096;
/// Freed blocks larger than this go back to the system at once (poisoned, but not watched): a few
/// big vectors must not push every small block out of the quarantine.
const QUARANTINE_MAX_BLOCK: usize = 1 << 20;
/// The header before every block: `magic` then `size`, 8 bytes each.
const HEADER: usize = 16;
const ALIVE: u64 = 0xA11C_A7ED_0B10_C4ED;
const FREED: u64 = 0xF4EE_D0B1_0C4F_4EED;
/// The violations a thread keeps before it stops writing them down (the first ones explain).
const KEPT_VIOLATIONS: usize = 4;

/// The allocator: the system's, with the checks above.
pub struct Checking;

/// Set by the first allocation [`Checking`] serves.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Something done wrong with memory, as the allocator saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A freed block was freed again.
    DoubleFree {
        /// The block's address.
        address: usize,
        /// Its size in bytes.
        size: usize,
    },
    /// A pointer that no allocation returned (or whose header was overwritten) was freed.
    InvalidFree {
        /// The pointer.
        address: usize,
    },
    /// A freed block was written to: byte `offset` is no longer poison.
    WriteAfterFree {
        /// The block's address.
        address: usize,
        /// Its size in bytes.
        size: usize,
        /// The first byte that changed.
        offset: usize,
    },
}

impl Violation {
    /// What happened, in plain words.
    pub fn describe(&self) -> String {
        match *self {
            Violation::DoubleFree { address, size } => {
                format!("a block of {size} bytes at {address:#x} was freed twice")
            }
            Violation::InvalidFree { address } => format!(
                "{address:#x} was freed, but no allocation returned it (or the bytes just before \
                 it were overwritten)"
            ),
            Violation::WriteAfterFree {
                address,
                size,
                offset,
            } => format!(
                "a block of {size} bytes at {address:#x} was written to after it was freed (byte \
                 {offset} of it)"
            ),
        }
    }
}

thread_local! {
    static LIVE_BYTES: Cell<usize> = const { Cell::new(0) };
    static LIVE_BLOCKS: Cell<usize> = const { Cell::new(0) };
    static PEAK_BYTES: Cell<usize> = const { Cell::new(0) };
    static VIOLATIONS: Cell<[Option<Violation>; KEPT_VIOLATIONS]> =
        const { Cell::new([None; KEPT_VIOLATIONS]) };
    static THREAD_ID: Cell<usize> = const { Cell::new(0) };
}

/// The next thread's identity.
static NEXT_THREAD_ID: AtomicUsize = AtomicUsize::new(1);

/// An identity for the current thread that needs no allocation and is never given to another
/// thread (a thread's own addresses are reused once it ends); 0 while it is being torn down.
fn thread_id() -> usize {
    THREAD_ID
        .try_with(|id| {
            if id.get() == 0 {
                id.set(NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed));
            }
            id.get()
        })
        .unwrap_or(0)
}

fn record(violation: Violation) {
    let _ = VIOLATIONS.try_with(|kept| {
        let mut list = kept.get();
        if let Some(slot) = list.iter_mut().find(|v| v.is_none()) {
            *slot = Some(violation);
            kept.set(list);
        }
    });
}

fn count(bytes: isize, blocks: isize) {
    let _ = LIVE_BYTES.try_with(|live| {
        let now = live.get().saturating_add_signed(bytes);
        live.set(now);
        let _ = PEAK_BYTES.try_with(|peak| peak.set(peak.get().max(now)));
    });
    let _ = LIVE_BLOCKS.try_with(|live| live.set(live.get().saturating_add_signed(blocks)));
}

/// A block in quarantine.
#[derive(Clone, Copy)]
struct Held {
    /// The block as its user saw it.
    user: *mut u8,
    size: usize,
    /// The whole allocation, header included, to give back.
    base: *mut u8,
    layout: Layout,
    /// The thread that freed it (whose test a write into it is blamed on).
    freed_by: usize,
}

/// The quarantine: a ring of blocks, behind a spin lock (an allocator cannot use a `Mutex`, which
/// may allocate).
struct Quarantine {
    locked: AtomicBool,
    ring: std::cell::UnsafeCell<Ring>,
}

struct Ring {
    held: [Option<Held>; QUARANTINE_BLOCKS],
    next: usize,
}

// SAFETY: `ring` is only touched while `locked` is held (see `with`), so one thread at a time.
unsafe impl Sync for Quarantine {}

static QUARANTINE: Quarantine = Quarantine {
    locked: AtomicBool::new(false),
    ring: std::cell::UnsafeCell::new(Ring {
        held: [None; QUARANTINE_BLOCKS],
        next: 0,
    }),
};

impl Quarantine {
    fn with<R>(&self, f: impl FnOnce(&mut Ring) -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: the lock is held, so no other thread has a reference to the ring.
        let result = f(unsafe { &mut *self.ring.get() });
        self.locked.store(false, Ordering::Release);
        result
    }
}

/// The first byte of a held block that is no longer poison.
fn first_changed(held: &Held) -> Option<usize> {
    // SAFETY: a held block stays allocated (it is in quarantine) and was fully written with
    // poison when it went in, so all `size` bytes are initialised and readable.
    let bytes = unsafe { std::slice::from_raw_parts(held.user, held.size) };
    bytes.iter().position(|b| *b != POISON)
}

/// Checks a block leaving the quarantine, then gives it back to the system.
fn release(held: Held) {
    if let Some(offset) = first_changed(&held)
        && held.freed_by == thread_id()
    {
        record(Violation::WriteAfterFree {
            address: held.user as usize,
            size: held.size,
            offset,
        });
    }
    // SAFETY: `base` was allocated by `System` with `layout`, and is freed exactly once, here.
    unsafe { System.dealloc(held.base, held.layout) };
}

/// The layout of the whole allocation for a block of `layout`, and where the block starts in it.
fn outer(layout: Layout) -> Option<(Layout, usize)> {
    let align = layout.align().max(HEADER);
    let offset = HEADER.max(align);
    let size = layout.size().checked_add(offset)?;
    Layout::from_size_align(size, align)
        .ok()
        .map(|l| (l, offset))
}

// SAFETY: every block handed out is a fresh `System` allocation of at least the requested size
// and alignment (the header sits before it, inside the same allocation); a block is given back to
// `System` exactly once, with the layout it was allocated with. The bookkeeping reads and writes
// only the header and the bytes of blocks that are still allocated.
unsafe impl GlobalAlloc for Checking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        let Some((whole, offset)) = outer(layout) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `whole` has a non-zero size (it holds the header).
        let base = unsafe { System.alloc(whole) };
        if base.is_null() {
            return base;
        }
        // SAFETY: `offset` < `whole.size()`, so `user` and the header before it are in bounds.
        let user = unsafe { base.add(offset) };
        // SAFETY: the header's 16 bytes lie inside the allocation, just before `user`, and are
        // aligned to 8 (`user` is aligned to at least 16).
        unsafe {
            let header = user.sub(HEADER).cast::<u64>();
            header.write(ALIVE);
            header.add(1).write(layout.size() as u64);
        }
        count(layout.size() as isize, 1);
        user
    }

    unsafe fn dealloc(&self, user: *mut u8, layout: Layout) {
        let Some((whole, offset)) = outer(layout) else {
            return;
        };
        // SAFETY: the caller gives a pointer this allocator returned for `layout`, so the header
        // is just before it; a wrong pointer is what the magic number is there to catch.
        let header = unsafe { user.sub(HEADER).cast::<u64>() };
        // SAFETY: as above.
        let magic = unsafe { header.read() };
        if magic == FREED {
            record(Violation::DoubleFree {
                address: user as usize,
                size: layout.size(),
            });
            return;
        }
        if magic != ALIVE {
            record(Violation::InvalidFree {
                address: user as usize,
            });
            return;
        }
        // SAFETY: the block is alive and `layout.size()` bytes long.
        unsafe {
            header.write(FREED);
            std::ptr::write_bytes(user, POISON, layout.size());
        }
        count(-(layout.size() as isize), -1);
        // SAFETY: `offset` is where `alloc` put the block in the allocation.
        let base = unsafe { user.sub(offset) };
        let held = Held {
            user,
            size: layout.size(),
            base,
            layout: whole,
            freed_by: thread_id(),
        };
        if layout.size() > QUARANTINE_MAX_BLOCK {
            release(held);
            return;
        }
        let evicted = QUARANTINE.with(|ring| {
            let slot = ring.next;
            ring.next = (ring.next + 1) % QUARANTINE_BLOCKS;
            ring.held[slot].replace(held)
        });
        if let Some(old) = evicted {
            release(old);
        }
    }

    unsafe fn realloc(&self, user: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A new block and a copy, always: the old one goes to quarantine, so that code still
        // holding the old address is caught.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `new_layout` is valid and its size is non-zero (the caller's contract).
        let fresh = unsafe { self.alloc(new_layout) };
        if !fresh.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap; the old one
            // is then freed once, with its own layout.
            unsafe {
                std::ptr::copy_nonoverlapping(user, fresh, layout.size().min(new_size));
                self.dealloc(user, layout);
            }
        }
        fresh
    }
}

/// The blocks and bytes this thread has allocated and not freed, and the most bytes it has held
/// at once since [`Mark::now`] or the thread began.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    bytes: usize,
    blocks: usize,
}

impl Mark {
    /// What this thread holds now; the peak starts again from here.
    pub fn now() -> Mark {
        let bytes = LIVE_BYTES.with(Cell::get);
        PEAK_BYTES.with(|p| p.set(bytes));
        Mark {
            bytes,
            blocks: LIVE_BLOCKS.with(Cell::get),
        }
    }

    /// Blocks allocated since the mark and not freed (negative when more were freed).
    pub fn blocks_kept(&self) -> isize {
        LIVE_BLOCKS.with(Cell::get) as isize - self.blocks as isize
    }

    /// Bytes allocated since the mark and not freed (negative when more were freed).
    pub fn bytes_kept(&self) -> isize {
        LIVE_BYTES.with(Cell::get) as isize - self.bytes as isize
    }

    /// The most bytes held at once since the mark, beyond what was held at the mark: the extra
    /// memory the work since then needed.
    pub fn peak_extra_bytes(&self) -> usize {
        PEAK_BYTES.with(Cell::get).saturating_sub(self.bytes)
    }
}

/// What a failure means, in the words of the lab's book.
#[derive(Clone, Copy, Debug)]
pub struct Meaning {
    /// What freed memory being used, or freed twice, means here: "a box was freed while an Rc or
    /// a Weak still used it (book: 01-refcount/rc.md#drop-pitfall)".
    pub misuse: &'static str,
    /// What memory kept after the test means here, or `None` when the test may keep some (a
    /// cache, a lazily made global).
    pub leak: Option<&'static str>,
}

/// Runs `test` and then checks what the allocator saw on this thread meanwhile: freed memory
/// written to or freed twice (also in blocks freed before `test`, still in quarantine), and,
/// when `meaning.leak` is given, blocks allocated and never freed. Fails the test with
/// `meaning`'s words and what was found.
///
/// The allocator of the test binary must be [`Checking`]; otherwise this checks nothing and says so.
#[track_caller]
pub fn checked<T>(meaning: Meaning, test: impl FnOnce() -> T) -> T {
    assert!(
        installed(),
        "testkit::alloc::checked needs `#[global_allocator] static A: testkit::alloc::Checking = \
         testkit::alloc::Checking;` in the test file"
    );
    let mark = Mark::now();
    let result = test();
    let me = thread_id();
    QUARANTINE.with(|ring| {
        for held in ring.held.iter().flatten() {
            if held.freed_by == me
                && let Some(offset) = first_changed(held)
            {
                record(Violation::WriteAfterFree {
                    address: held.user as usize,
                    size: held.size,
                    offset,
                });
            }
        }
    });
    let found: Vec<Violation> = VIOLATIONS
        .with(|kept| kept.replace([None; KEPT_VIOLATIONS]))
        .into_iter()
        .flatten()
        .collect();
    if let Some(first) = found.first() {
        let more = match found.len() {
            1 => String::new(),
            n => format!(" (and {} more such findings)", n - 1),
        };
        panic!("{}\n  found: {}{more}", meaning.misuse, first.describe());
    }
    if let Some(leak) = meaning.leak {
        let (blocks, bytes) = (mark.blocks_kept(), mark.bytes_kept());
        assert!(
            blocks <= 0,
            "{leak}\n  found: {blocks} heap block(s), {bytes} bytes, allocated during the test \
             and never freed"
        );
    }
    result
}

/// Whether [`Checking`] is the allocator of this program: it notes its first allocation.
pub fn installed() -> bool {
    drop(std::hint::black_box(Box::new(0u64)));
    INSTALLED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_layouts_keep_the_alignment_and_room_for_the_header() {
        let (whole, offset) = outer(Layout::from_size_align(24, 8).unwrap()).unwrap();
        assert_eq!((whole.size(), whole.align(), offset), (40, 16, 16));
        let (whole, offset) = outer(Layout::from_size_align(64, 64).unwrap()).unwrap();
        assert_eq!((whole.size(), whole.align(), offset), (128, 64, 64));
    }

    #[test]
    fn violations_read_as_sentences() {
        let v = Violation::WriteAfterFree {
            address: 0x1000,
            size: 24,
            offset: 8,
        };
        assert_eq!(
            v.describe(),
            "a block of 24 bytes at 0x1000 was written to after it was freed (byte 8 of it)"
        );
    }
}
