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
//! freed memory or a leak means for this lab. Its messages begin with `memory error: ` and
//! `leak: `, which the grader reads as failures of those kinds. Three things happen to every block:
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
//!
//! Poison shows a write, but not a read: code that reads a freed count and finds poison (or, with
//! the system allocator, whatever the allocator left there) may carry on as if nothing happened.
//! For `unsafe` code that small tests exercise, [`Guarded`] goes further, at the cost of two pages
//! per block: every block ends where an inaccessible page begins, and a freed block's pages become
//! inaccessible too. The first read of a freed block, or past the end of a live one, stops the
//! test at once; a handler installed by [`checked`] says what happened, in the lab's words, before
//! the process dies (the grader then reports that sentence as the test's failure).

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

/// Set by the first allocation [`Checking`] or [`Guarded`] serves.
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
    /// Whether this thread runs code under test (inside `checked`), which [`Guarded`] gives
    /// pages of its own.
    static WATCHING: Cell<bool> = const { Cell::new(false) };
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
        // Under Miri, blocks come straight from the system allocator, only counted: Miri sees
        // every misuse itself, and a header before the block would be out of bounds for the
        // pointer Rust hands back to `dealloc` (under Stacked Borrows, a `Box`'s pointer may
        // reach only its own bytes).
        if cfg!(miri) {
            count(layout.size() as isize, 1);
            // SAFETY: the caller's contract (a valid layout of non-zero size) is passed on.
            return unsafe { System.alloc(layout) };
        }
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
        if cfg!(miri) {
            count(-(layout.size() as isize), -1);
            // SAFETY: under Miri, `alloc` gave out this block from `System` with this layout.
            unsafe { System.dealloc(user, layout) };
            return;
        }
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
/// The allocator of the test binary must be [`Checking`] or [`Guarded`] (except under Miri, which
/// checks all of this itself); otherwise this says so.
#[track_caller]
pub fn checked<T>(meaning: Meaning, test: impl FnOnce() -> T) -> T {
    // Under Miri, which sees every misuse of memory and every leak itself (and runs the test
    // binary on its own allocator), there is nothing for this to add.
    if cfg!(miri) {
        return test();
    }
    assert!(
        installed(),
        "testkit::alloc::checked needs `#[global_allocator] static A: testkit::alloc::Checking = \
         testkit::alloc::Checking;` (or `Guarded`) in the test file"
    );
    guard::prepare(meaning.misuse);
    let mark = Mark::now();
    /// Sets WATCHING back to what it was when it goes, even if the test panics.
    struct Watching(bool);
    impl Drop for Watching {
        fn drop(&mut self) {
            let _ = WATCHING.try_with(|w| w.set(self.0));
        }
    }
    let watching = Watching(WATCHING.with(|w| w.replace(true)));
    let result = test();
    drop(watching);
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
        panic!(
            "memory error: {}\n  found: {}{more}",
            meaning.misuse,
            first.describe()
        );
    }
    if let Some(leak) = meaning.leak {
        let (blocks, bytes) = (mark.blocks_kept(), mark.bytes_kept());
        assert!(
            blocks <= 0,
            "leak: {leak}\n  found: {blocks} heap block(s), {bytes} bytes, allocated during the \
             test and never freed"
        );
    }
    result
}

/// Runs `test` with `fence` watched: an inaccessible range that the test placed right after the
/// memory under test (lab 02's arenas each end where such a page begins). A read or write there
/// stops the test with `memory error: ` and `misuse`, the lab's words, rather than a bare
/// segmentation fault. Any global allocator will do.
pub fn fenced<T>(
    misuse: &'static str,
    fence: std::ops::Range<usize>,
    test: impl FnOnce() -> T,
) -> T {
    if cfg!(miri) {
        return test();
    }
    guard::prepare(misuse);
    guard::fence(fence);
    /// Takes the fence down when the test ends, even if it panics.
    struct Down;
    impl Drop for Down {
        fn drop(&mut self) {
            guard::fence(0..0);
        }
    }
    let _down = Down;
    test()
}

/// Whether [`Checking`] or [`Guarded`] is the allocator of this program: it notes its first
/// allocation.
pub fn installed() -> bool {
    drop(std::hint::black_box(Box::new(0u64)));
    INSTALLED.load(Ordering::Relaxed)
}

/// The allocator for `unsafe` code under test: every block on pages of its own, ending where an
/// inaccessible page begins; a freed block's pages inaccessible as well (module documentation).
/// Slow and memory-hungry (two pages a block): for the tests of small `unsafe` code only.
pub struct Guarded;

// SAFETY: every block handed out lies inside a fresh anonymous mapping that is readable and
// writable, is at least the requested size and alignment, and is not handed out again (its
// mapping is unmapped only after it has left the quarantine); the headers read and written are
// inside the same mapping, before the block.
unsafe impl GlobalAlloc for Guarded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        // Pages of their own only for the code under test: inside `checked`, and not while a
        // panic unwinds (printing a backtrace makes tens of thousands of blocks, more mappings
        // than the system allows).
        let watched = WATCHING.try_with(Cell::get).unwrap_or(false) && !std::thread::panicking();
        let block = if watched {
            guard::map(layout)
        } else {
            guard::on_the_heap(layout)
        };
        let Some(block) = block else {
            return std::ptr::null_mut();
        };
        count(layout.size() as isize, 1);
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        match guard::unmap(block, layout) {
            Ok(()) => count(-(layout.size() as isize), -1),
            Err(violation) => record(violation),
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `new_layout` is valid and its size is non-zero (the caller's contract).
        let fresh = unsafe { self.alloc(new_layout) };
        if !fresh.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap; the old one
            // is then freed once, with its own layout.
            unsafe {
                std::ptr::copy_nonoverlapping(block, fresh, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
        }
        fresh
    }
}

/// The pages of [`Guarded`], and the handler that explains a fault in them.
mod guard {
    use std::alloc::Layout;
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

    use std::alloc::GlobalAlloc;

    use super::{ALIVE, FREED, Violation};

    /// At the start of every mapping: the mark, then the mapping's length.
    const MAPPING: u64 = 0x6743_4C41_4253_4744;
    /// Before every block: `magic`, `size`, the mapping's start and length, and the block's
    /// start, 8 bytes each.
    const HEADER: usize = 40;
    /// How many freed mappings stay inaccessible before the oldest is unmapped.
    const KEPT: usize = 8192;

    /// The system's page size, asked once.
    fn page() -> usize {
        static PAGE: AtomicUsize = AtomicUsize::new(0);
        match PAGE.load(Ordering::Relaxed) {
            0 => {
                // SAFETY: sysconf has no memory-safety preconditions.
                let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
                let size = usize::try_from(size)
                    .ok()
                    .filter(|s| *s > 0)
                    .unwrap_or(4096);
                PAGE.store(size, Ordering::Relaxed);
                size
            }
            size => size,
        }
    }

    /// A freed mapping, inaccessible.
    #[derive(Clone, Copy)]
    struct Freed {
        base: usize,
        len: usize,
        block: usize,
        size: usize,
    }

    struct Ring {
        slots: UnsafeCell<[Option<Freed>; KEPT]>,
        next: AtomicUsize,
        locked: AtomicBool,
    }

    // SAFETY: `slots` is written only under `locked`; the fault handler only reads it, and a torn
    // read there at worst misnames a fault that kills the process anyway.
    unsafe impl Sync for Ring {}

    static FREED_RING: Ring = Ring {
        slots: UnsafeCell::new([None; KEPT]),
        next: AtomicUsize::new(0),
        locked: AtomicBool::new(false),
    };

    /// Where the header of the block at `start` is: `HEADER` bytes before it, 8-aligned.
    fn header_of(start: usize) -> usize {
        (start - HEADER) & !7
    }

    /// Maps a block for `layout`: its end at the start of an inaccessible page.
    pub(super) fn map(layout: Layout) -> Option<*mut u8> {
        let page = page();
        let data = (layout.size() + layout.align() + HEADER + 24).div_ceil(page) * page;
        let len = data + page;
        // SAFETY: an anonymous private mapping at an address of the kernel's choice: no memory
        // of the program is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let base = base.cast::<u8>();
        // SAFETY: the last page lies inside the mapping just made.
        if unsafe { libc::mprotect(base.add(data).cast(), page, libc::PROT_NONE) } != 0 {
            // SAFETY: unmapping the mapping just made, once.
            unsafe { libc::munmap(base.cast(), len) };
            return None;
        }
        // The block ends where the inaccessible page begins, as far as its alignment allows.
        let end = base as usize + data;
        let start = (end - layout.size()) & !(layout.align() - 1);
        // SAFETY: the header and the mapping's first 16 bytes are inside the data pages (`data`
        // leaves room for both), writable, and 8-aligned.
        unsafe {
            base.cast::<u64>().write(MAPPING);
            base.cast::<u64>().add(1).write(len as u64);
            let header = header_of(start) as *mut u64;
            header.write(ALIVE);
            header.add(1).write(layout.size() as u64);
            header.add(2).write(base as u64);
            header.add(3).write(len as u64);
            header.add(4).write(start as u64);
        }
        Some(start as *mut u8)
    }

    /// Marks a block that lives on the system's heap, not on pages of its own.
    const ON_THE_HEAP: u64 = 0x4845_4150_0B10_C4ED;

    /// A block for `layout` on the system's heap, with the same header as a block of [`map`]
    /// (magic [`ON_THE_HEAP`]), so that [`unmap`] knows where it came from.
    pub(super) fn on_the_heap(layout: Layout) -> Option<*mut u8> {
        let align = layout.align().max(16);
        let offset = HEADER.next_multiple_of(align);
        let whole = Layout::from_size_align(layout.size().checked_add(offset)?, align).ok()?;
        // SAFETY: `whole` has a non-zero size (it holds the header).
        let base = unsafe { std::alloc::System.alloc(whole) };
        if base.is_null() {
            return None;
        }
        let start = base as usize + offset;
        // SAFETY: the header lies inside the allocation, before the block, 8-aligned.
        unsafe {
            let header = header_of(start) as *mut u64;
            header.write(ON_THE_HEAP);
            header.add(1).write(layout.size() as u64);
            header.add(2).write(base as u64);
            header.add(3).write(whole.size() as u64);
            header.add(4).write(whole.align() as u64);
        }
        Some(start as *mut u8)
    }

    /// Frees a block of [`map`] (its pages become inaccessible, and the oldest freed mapping is
    /// given back to the system) or of [`on_the_heap`].
    pub(super) fn unmap(block: *mut u8, layout: Layout) -> Result<(), Violation> {
        let header = header_of(block as usize) as *mut u64;
        // SAFETY: a block of ours has its header just before it, in its (accessible) memory. A
        // freed block's header is inaccessible: freeing it again faults, which the handler
        // reports. A pointer of no block of ours is what the magic number catches.
        let (magic, base, len) =
            unsafe { (header.read(), header.add(2).read(), header.add(3).read()) };
        if magic == ON_THE_HEAP {
            // SAFETY: as above; the header records the allocation's start, size and alignment.
            let align = unsafe { header.add(4).read() } as usize;
            // SAFETY: the block was allocated by `on_the_heap` with exactly this layout.
            unsafe {
                std::alloc::System.dealloc(
                    base as *mut u8,
                    Layout::from_size_align_unchecked(len as usize, align),
                );
            }
            return Ok(());
        }
        if magic != ALIVE {
            return Err(if magic == FREED {
                Violation::DoubleFree {
                    address: block as usize,
                    size: layout.size(),
                }
            } else {
                Violation::InvalidFree {
                    address: block as usize,
                }
            });
        }
        let (base, len) = (base as usize, len as usize);
        // SAFETY: the header is inside the accessible mapping (checked by its magic).
        unsafe { header.write(FREED) };
        // SAFETY: `base .. base + len - page` are the mapping's data pages, made inaccessible.
        unsafe { libc::mprotect(base as *mut libc::c_void, len - page(), libc::PROT_NONE) };
        let freed = Freed {
            base,
            len,
            block: block as usize,
            size: layout.size(),
        };
        while FREED_RING
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        let slot = FREED_RING.next.fetch_add(1, Ordering::Relaxed) % KEPT;
        // SAFETY: the lock is held: no other writer.
        let evicted = unsafe { (*FREED_RING.slots.get())[slot].replace(freed) };
        FREED_RING.locked.store(false, Ordering::Release);
        if let Some(old) = evicted {
            // SAFETY: the oldest freed mapping, unmapped once, as a whole.
            unsafe { libc::munmap(old.base as *mut libc::c_void, old.len) };
        }
        Ok(())
    }

    /// What the handler says first: the lab's words for a misuse of memory.
    static WORDS: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
    static WORDS_LEN: AtomicUsize = AtomicUsize::new(0);
    static HANDLER: AtomicBool = AtomicBool::new(false);
    /// The range [`super::fenced`] watches, if any (start and end; empty when none).
    static FENCE: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

    /// Watches `range` for the handler (an empty range: none).
    pub(super) fn fence(range: std::ops::Range<usize>) {
        FENCE[0].store(range.start, Ordering::Relaxed);
        FENCE[1].store(range.end, Ordering::Release);
    }

    /// The handlers that were there before ours: a fault that is not ours goes back to them.
    struct Previous(UnsafeCell<[std::mem::MaybeUninit<libc::sigaction>; 2]>);
    // SAFETY: written once, before the handler is installed; only read afterwards.
    unsafe impl Sync for Previous {}
    static PREVIOUS: Previous = Previous(UnsafeCell::new([std::mem::MaybeUninit::uninit(); 2]));
    const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

    /// Sets the words for a misuse of memory, and installs the fault handler (once; after the
    /// standard library's own, which it hands stack overflows back to).
    pub(super) fn prepare(words: &'static str) {
        WORDS_LEN.store(words.len(), Ordering::Relaxed);
        WORDS.store(words.as_ptr().cast_mut(), Ordering::Release);
        if HANDLER.swap(true, Ordering::AcqRel) {
            return;
        }
        for (i, signal) in SIGNALS.into_iter().enumerate() {
            // SAFETY: a zeroed sigaction is valid to fill in; the handler has the SA_SIGINFO
            // signature; PREVIOUS is written here only, before any fault can read it.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_fault as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = (*PREVIOUS.0.get())[i].as_mut_ptr();
                libc::sigaction(signal, &action, previous);
            }
        }
    }

    /// Writes bytes to stderr (async-signal-safe).
    fn say(bytes: &[u8]) {
        // SAFETY: `bytes` is valid for its length.
        unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
    }

    /// Writes a number in decimal, without allocating.
    fn say_number(mut n: usize) {
        let mut digits = [0u8; 24];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        say(&digits[at..]);
    }

    /// The fault handler: a fault in a freed block, or just past a live one, is said in words;
    /// then the previous handler takes the fault (the process dies of it, or the standard library
    /// reports a stack overflow). Only async-signal-safe calls.
    extern "C" fn on_fault(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for a SA_SIGINFO handler of SIGSEGV/SIGBUS.
        let address = unsafe { (*info).si_addr() } as usize;
        let words = WORDS.load(Ordering::Acquire);
        let words: &[u8] = if words.is_null() {
            b"memory was used in a way the code under test must not"
        } else {
            // SAFETY: WORDS points to a &'static str of WORDS_LEN bytes.
            unsafe { std::slice::from_raw_parts(words, WORDS_LEN.load(Ordering::Relaxed)) }
        };
        // SAFETY: read without the lock, as its Sync impl says.
        let freed = unsafe { &*FREED_RING.slots.get() }
            .iter()
            .flatten()
            .find(|f| (f.base..f.base + f.len).contains(&address))
            .copied();
        let page = page();
        let guard_start = address & !(page - 1);
        let fence_end = FENCE[1].load(Ordering::Acquire);
        let fence_start = FENCE[0].load(Ordering::Relaxed);
        if (fence_start..fence_end).contains(&address) {
            say(b"\nmemory error: ");
            say(words);
            say(b"\n  found: a read or write past the end of the memory under test, at byte ");
            say_number(address - fence_start);
            say(b" of the inaccessible page right after it\n");
        } else if let Some(f) = freed {
            say(b"\nmemory error: ");
            say(words);
            say(b"\n  found: a block of ");
            say_number(f.size);
            say(b" bytes was used (read, written or freed again) after it was freed");
            if (f.block..f.block + f.size).contains(&address) {
                say(b", at byte ");
                say_number(address - f.block);
                say(b" of it");
            }
            say(b"\n");
        } else if let Some(base) = guard_start.checked_sub(page)
            && !is_freed(base)
            && is_ours(base, page)
        {
            // SAFETY: `is_ours` checked the page is mapped and readable, and marked as ours.
            let header = unsafe { find_header(base, guard_start) };
            say(b"\nmemory error: ");
            say(words);
            say(b"\n  found: the code read or wrote past the end of a block");
            if let Some((block, size)) = header {
                say(b" of ");
                say_number(size);
                say(b" bytes, at byte ");
                say_number(address.saturating_sub(block));
                say(b" from its start");
            }
            say(b"\n");
        }
        // The previous handler takes the fault when the instruction runs again.
        let index = usize::from(signal == libc::SIGBUS);
        // SAFETY: PREVIOUS[index] was filled by `prepare` before this handler was installed.
        unsafe {
            let previous = (*PREVIOUS.0.get())[index].as_ptr();
            libc::sigaction(signal, previous, std::ptr::null_mut());
        }
    }

    fn is_freed(address: usize) -> bool {
        // SAFETY: read without the lock, as its Sync impl says.
        unsafe { &*FREED_RING.slots.get() }
            .iter()
            .flatten()
            .any(|f| (f.base..f.base + f.len).contains(&address))
    }

    /// Whether `base` is the first page of a one-page mapping of ours: mapped, readable, and
    /// marked. `mincore` tells whether it is mapped without touching it.
    fn is_ours(base: usize, page: usize) -> bool {
        let mut resident = 0u8;
        // SAFETY: mincore writes one byte for one page into `resident`.
        let mapped = unsafe { libc::mincore(base as *mut libc::c_void, page, &mut resident) } == 0;
        // SAFETY: the page is mapped, and not one of ours made inaccessible (checked by the
        // caller); a mapping of ours begins with its mark and its length.
        mapped
            && unsafe { (base as *const u64).read_volatile() } == MAPPING
            && unsafe { (base as *const u64).add(1).read_volatile() } as usize == 2 * page
    }

    /// The block in the one-page mapping at `base` (whose guard page starts at `end`).
    ///
    /// # Safety
    ///
    /// `base` must be the readable first page of a mapping of [`map`].
    unsafe fn find_header(base: usize, end: usize) -> Option<(usize, usize)> {
        // The block's header is the only word marked ALIVE in the page; it records the block's
        // start and size.
        let mut at = base + 16;
        while at + HEADER <= end {
            // SAFETY: `at` stays inside the readable page, 8-aligned.
            let magic = unsafe { (at as *const u64).read_volatile() };
            if magic == ALIVE {
                // SAFETY: as above: the header's words are inside the page.
                let (size, start) = unsafe {
                    let header = at as *const u64;
                    (header.add(1).read_volatile(), header.add(4).read_volatile())
                };
                return Some((start as usize, size as usize));
            }
            at += 8;
        }
        None
    }
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
