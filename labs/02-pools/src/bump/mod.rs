//! A bump arena: allocation is moving a pointer, and everything is freed at once.
//!
//! # The problem
//!
//! A general allocator (`malloc`, or pymalloc in the next part) must be ready for any block to be
//! freed at any moment, so it keeps lists of free blocks, headers, size classes. Many programs do
//! not need that: a compiler pass, a request handler or a parser makes lots of small objects that
//! all die together at the end. For them the cheapest allocator there is will do: take a large
//! *chunk* of memory, hand out its bytes in order, and free the whole chunk when the phase ends.
//!
//! ```text
//!   chunk (one allocation from the system)
//!   +-------+---+-----------+--+--------+------------------------------------+
//!   | a: 24 |pad| b: 48     |  | c: 16  |             free                   |
//!   +-------+---+-----------+--+--------+------------------------------------+
//!   ^start                               ^cursor (start + used)              ^end
//! ```
//!
//! A block starts at the cursor rounded up to its alignment (the skipped bytes are *padding*)
//! and must end before the end of the chunk: no search, no header, no free list. The book's
//! section "A bump arena" shows how to round up with a mask.
//!
//! When the block does not fit, the arena takes a new chunk, twice as large as the last one, so
//! that a long phase needs few chunks (the number of chunks grows with the logarithm of the bytes
//! allocated). A request larger than the next chunk would be gets a chunk of exactly its own size,
//! placed behind the current chunk, which stays current: one large request does not waste the
//! rest of the current chunk.
//!
//! The trade-off: there is no `free`. One long-lived object keeps its whole chunk alive, and a
//! value's destructor (`Drop`) never runs, because the arena does not know where its values are
//! or what type they have. [`Bump::reset`] frees everything at once and keeps one chunk for the
//! next phase. [`Arena`] gives up mixing types to get destructors back.
//!
//! This is how bumpalo works (it bumps downwards, which saves an instruction; we bump upwards,
//! which is easier to draw). CPython uses the same idea inside each pool: a new pool hands out
//! blocks by moving `nextoffset`, and only freed blocks go on a free list.
//!
//! # Example
//!
//! ```
//! use std::alloc::Layout;
//! use pools::bump::Bump;
//!
//! let bump = Bump::new();
//! let x = bump.alloc(7u64);
//! let name = bump.alloc_str("spam");
//! *x += 1;
//! assert_eq!((*x, &*name), (8, "spam"));
//! let raw = bump.alloc_layout(Layout::from_size_align(100, 64).unwrap());
//! assert_eq!(raw.as_ptr() as usize % 64, 0);
//! assert_eq!(bump.allocated_bytes(), 8 + 4 + 100);
//! ```
//!
//! A reference from the arena cannot outlive it, and [`Bump::reset`] cannot run while one is
//! still in use: the borrow checker refuses both.
//!
//! ```compile_fail,E0597
//! let x: &mut u64 = {
//!     let bump = pools::bump::Bump::new();
//!     bump.alloc(1) // error: `bump` does not live long enough
//! };
//! ```
//!
//! ```compile_fail,E0502
//! let mut bump = pools::bump::Bump::new();
//! let x = bump.alloc(1u64);
//! bump.reset(); // error: cannot borrow `bump` as mutable, it is also borrowed as immutable
//! *x += 1;
//! ```

mod typed;

pub use typed::Arena;

use std::alloc::{self, Layout};
use std::cell::{Cell, RefCell};
use std::ptr::{self, NonNull};

/// The size of the first chunk of a [`Bump::new`] arena: 4 KiB, one page, so that a small arena
/// costs one page and a large one reaches megabyte chunks after a handful of doublings.
pub const DEFAULT_CHUNK_SIZE: usize = 4096;

/// Every chunk is aligned to at least this: the alignment `malloc` guarantees on x86-64, so
/// that requests aligned to 16 or less never need padding at the start of a chunk.
pub const CHUNK_ALIGN: usize = 16;

const _: () = assert!(CHUNK_ALIGN.is_power_of_two() && DEFAULT_CHUNK_SIZE >= CHUNK_ALIGN);

/// One chunk: a block from the system allocator, freed only by [`Bump::reset`] or when the arena
/// drops.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    start: NonNull<u8>,
    /// The size and alignment it was allocated with (needed again to free it).
    layout: Layout,
}

impl Chunk {
    /// Allocates a chunk of `size` bytes (more than 0) aligned to `align` (a power of two, at
    /// least [`CHUNK_ALIGN`]). Out of memory aborts, as it does for `Box` and `Vec`.
    fn allocate(size: usize, align: usize) -> Chunk {
        let layout = Layout::from_size_align(size, align.max(CHUNK_ALIGN))
            .expect("a chunk size that overflows isize");
        assert!(layout.size() > 0, "a chunk is never empty");
        // SAFETY: the layout has a non-zero size (checked just above).
        let raw = unsafe { alloc::alloc(layout) };
        let Some(start) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        Chunk { start, layout }
    }

    /// How many bytes the chunk has.
    fn size(self) -> usize {
        self.layout.size()
    }

    /// Gives the chunk back to the system allocator.
    ///
    /// # Safety
    /// The chunk came from [`Chunk::allocate`], is freed only this once, and nothing allocated in
    /// it is used afterwards.
    unsafe fn free(self) {
        // SAFETY: the caller promises the chunk is live and allocated by `Chunk::allocate` with
        // this very layout, and that nothing points into it any more.
        unsafe { alloc::dealloc(self.start.as_ptr(), self.layout) }
    }
}

// ANCHOR: bump_struct
/// A bump arena: hands out memory from a chunk by moving a cursor, takes a new chunk (twice as
/// large) when the current one is full, and frees everything at once. Values put in it are never
/// dropped.
///
/// All allocation goes through `&self`, so many references from one arena can be alive at once;
/// that is why the cursor lives in [`Cell`]s. The arena is neither `Send` nor `Sync`.
#[derive(Debug)]
pub struct Bump {
    /// The chunk allocation happens in, if the arena has one yet (a new arena has none).
    current: Cell<Option<Chunk>>,
    /// How many bytes of the current chunk are taken: the cursor is `current.start + used`.
    used: Cell<usize>,
    /// Every other chunk: the ones that were current before, and the ones that each hold one
    /// large request. Only freed, never allocated from again.
    retired: RefCell<Vec<Chunk>>,
    /// The size of the next ordinary chunk; doubles every time a chunk is taken.
    next_chunk_size: Cell<usize>,
    /// Bytes handed out since the arena was made or last reset (padding not counted).
    allocated: Cell<usize>,
}
// ANCHOR_END: bump_struct

impl Bump {
    /// An empty arena whose first chunk will have [`DEFAULT_CHUNK_SIZE`] bytes. It takes no memory
    /// until the first allocation.
    pub fn new() -> Bump {
        Bump::with_chunk_size(DEFAULT_CHUNK_SIZE)
    }

    /// An empty arena whose first chunk will have `chunk_size` bytes (at least [`CHUNK_ALIGN`]).
    pub fn with_chunk_size(chunk_size: usize) -> Bump {
        Bump {
            current: Cell::new(None),
            used: Cell::new(0),
            retired: RefCell::new(Vec::new()),
            next_chunk_size: Cell::new(chunk_size.max(CHUNK_ALIGN)),
            allocated: Cell::new(0),
        }
    }

    // ANCHOR: bump_alloc
    /// Allocates a block of `layout.size()` bytes aligned to `layout.align()`, valid until the
    /// arena is reset or dropped. The bytes are uninitialised.
    ///
    /// The block is the first `layout.size()` bytes after the cursor, rounded up to the
    /// alignment, when they fit in the current chunk: then the cursor (`used`) moves past them
    /// and `allocated` counts them. Otherwise `alloc_in_new_chunk` takes a new chunk. A
    /// zero-sized request takes no memory, and no chunk: it gets a dangling pointer aligned to
    /// `layout.align()` (`ptr::without_provenance_mut` makes one).
    pub fn alloc_layout(&self, layout: Layout) -> NonNull<u8> {
        // TODO: the block returned is layout.size() bytes aligned to layout.align(): the first such
        //       bytes after the cursor in the current chunk when they fit before its end (the
        //       cursor then moves past them, and allocated counts them), otherwise the block
        //       alloc_in_new_chunk returns; a zero-sized request takes no memory at all
        todo!()
    }
    // ANCHOR_END: bump_alloc

    /// The slow path of [`Bump::alloc_layout`]: the block does not fit in the current chunk (or
    /// there is none), so it goes in a new chunk.
    ///
    /// A request larger than `next_chunk_size` gets a chunk of exactly its size, retired at once:
    /// the current chunk stays current and keeps its free bytes for the requests that follow.
    /// Any other request gets a new chunk of `next_chunk_size` bytes, which becomes current (the
    /// old one is retired, its leftover bytes unused), and `next_chunk_size` doubles.
    #[cold]
    fn alloc_in_new_chunk(&self, layout: Layout) -> NonNull<u8> {
        // TODO: afterwards the block is at the start of a new chunk aligned for it and allocated
        //       counts it: a chunk of its own, retired at once, when the request is larger than
        //       next_chunk_size; otherwise a chunk of next_chunk_size bytes, now current with the
        //       cursor past the block (the old one retired), and next_chunk_size doubled
        todo!()
    }

    /// Moves `value` into the arena and returns a reference to it that lives as long as the
    /// borrow of the arena.
    ///
    /// The value is **never dropped**: the arena does not remember what it holds, so its `Drop`
    /// does not run, neither at [`Bump::reset`] nor when the arena drops (bumpalo does the same).
    /// Memory the value owns elsewhere (a `String`'s buffer, say) leaks. Use [`Arena`] for values
    /// that need dropping.
    #[allow(
        clippy::mut_from_ref,
        reason = "each call returns a different block, so the `&mut`s never alias"
    )]
    pub fn alloc<T>(&self, value: T) -> &mut T {
        let block = self.alloc_layout(Layout::new::<T>()).cast::<T>();
        // SAFETY: `block` is aligned for `T`, has room for one `T` (or is a dangling aligned
        // pointer if `T` is zero-sized), and no one else points to it: the arena handed it out
        // just now and will not hand it out again before `reset`, which needs `&mut self`.
        unsafe {
            block.write(value);
            &mut *block.as_ptr()
        }
    }

    /// Copies `text` into the arena.
    #[allow(
        clippy::mut_from_ref,
        reason = "each call returns a different block, so the `&mut`s never alias"
    )]
    pub fn alloc_str(&self, text: &str) -> &mut str {
        let block = self.alloc_layout(Layout::for_value(text));
        // SAFETY: `block` has room for `text.len()` bytes and is fresh, so it cannot overlap
        // `text`, which was not allocated by this call.
        let bytes = unsafe {
            ptr::copy_nonoverlapping(text.as_ptr(), block.as_ptr(), text.len());
            std::slice::from_raw_parts_mut(block.as_ptr(), text.len())
        };
        // SAFETY: the bytes were copied from a `str`, so they are valid UTF-8.
        unsafe { std::str::from_utf8_unchecked_mut(bytes) }
    }

    // ANCHOR: reset
    /// Frees everything allocated so far, at once, without dropping any value. The current chunk
    /// (the largest ordinary one) is kept and reused from its start; the others go back to the
    /// system. Taking `&mut self` proves that no reference into the arena is still alive.
    pub fn reset(&mut self) {
        // TODO: afterwards the arena holds the current chunk alone, its cursor at its start, and
        //       allocated is 0; every retired chunk went back to the system
        todo!()
    }
    // ANCHOR_END: reset

    /// How many chunks the arena holds right now (0 for a new arena).
    pub fn chunk_count(&self) -> usize {
        self.retired.borrow().len() + usize::from(self.current.get().is_some())
    }

    /// Bytes handed out since the arena was made or last reset: the sum of the requested sizes,
    /// padding not counted.
    pub fn allocated_bytes(&self) -> usize {
        self.allocated.get()
    }

    /// Bytes held in chunks right now: what the arena costs, whatever it has handed out.
    pub fn capacity_bytes(&self) -> usize {
        let retired: usize = self.retired.borrow().iter().map(|c| c.size()).sum();
        retired + self.current.get().map_or(0, Chunk::size)
    }
}

impl Default for Bump {
    fn default() -> Self {
        Bump::new()
    }
}

impl Drop for Bump {
    fn drop(&mut self) {
        let current = self.current.take();
        for chunk in self.retired.get_mut().drain(..).chain(current) {
            // SAFETY: each chunk came from `Chunk::allocate` and appears once (the current one
            // was taken out of `current` above); the arena is being dropped, so nothing borrows
            // from it any more.
            unsafe { chunk.free() };
        }
    }
}
