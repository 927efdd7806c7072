//! A typed arena: values of one type, allocated one by one, dropped all together.
//!
//! # The problem
//!
//! A [`Bump`](super::Bump) never runs destructors, because it does not know what it holds. An
//! arena for values of a single type `T` does: it keeps them in vectors of `T`, so when the arena
//! drops, every value is dropped, exactly once. It also lets values point to each other with
//! plain references (`&'a T`), even in cycles, because all of them live exactly as long as the
//! arena: a tree or a graph whose nodes die together needs no reference counts at all.
//!
//! # Growing without moving
//!
//! A reference handed out by [`Arena::alloc`] must stay valid while more values are added, so a
//! value must never move. A single `Vec<T>` would move them all when it grows. Instead the arena
//! keeps *chunks*: vectors that are never pushed beyond their capacity, so they never reallocate.
//! When the current chunk is full, it is put aside as it is and a new one, twice as large, takes
//! its place:
//!
//! ```text
//!   full:    [v0 v1 v2 v3] [v4 v5 v6 v7 v8 v9 v10 v11]     <- never touched again
//!   current: [v12 v13 v14 _ _ _ _ _ _ _ _ _ _ _ _ _]       <- len 3, capacity 16
//! ```
//!
//! This is the design of the typed-arena crate, and of rustc's own `TypedArena`.
//!
//! # Example
//!
//! ```
//! use std::cell::Cell;
//! use pools::bump::Arena;
//!
//! struct Node<'a> {
//!     name: &'static str,
//!     next: Cell<Option<&'a Node<'a>>>,
//! }
//!
//! let arena = Arena::new();
//! let a: &Node = arena.alloc(Node { name: "a", next: Cell::new(None) });
//! let b: &Node = arena.alloc(Node { name: "b", next: Cell::new(Some(a)) });
//! a.next.set(Some(b)); // a cycle, and no reference count in sight
//! assert_eq!(a.next.get().unwrap().next.get().unwrap().name, "a");
//! assert_eq!(arena.len(), 2);
//! ```
//!
//! A reference from the arena cannot outlive it:
//!
//! ```compile_fail,E0597
//! let s: &mut String = {
//!     let arena = pools::bump::Arena::new();
//!     arena.alloc(String::from("spam")) // error: `arena` does not live long enough
//! };
//! ```

use std::cell::RefCell;

/// The capacity of the first chunk of an [`Arena::new`] arena: small, because chunks double.
const FIRST_CHUNK_CAPACITY: usize = 8;

// ANCHOR: typed_arena_struct
/// An arena of values of type `T`: [`Arena::alloc`] moves a value in and returns a reference that
/// lives as long as the arena; the values are dropped, each exactly once, when the arena drops.
pub struct Arena<T> {
    chunks: RefCell<Chunks<T>>,
}

/// The arena's storage. Invariant: no chunk is ever pushed beyond its capacity, so no chunk ever
/// reallocates, and no value ever moves or leaves before the arena drops.
struct Chunks<T> {
    /// The chunk new values go into.
    current: Vec<T>,
    /// Chunks that are full, kept only so that their values live (and are dropped) with the arena.
    full: Vec<Vec<T>>,
}
// ANCHOR_END: typed_arena_struct

impl<T> Arena<T> {
    /// An empty arena; its first chunk holds 8 values.
    pub fn new() -> Arena<T> {
        Arena::with_capacity(FIRST_CHUNK_CAPACITY)
    }

    /// An empty arena whose first chunk holds `capacity` values (at least one).
    pub fn with_capacity(capacity: usize) -> Arena<T> {
        Arena {
            chunks: RefCell::new(Chunks {
                current: Vec::with_capacity(capacity.max(1)),
                full: Vec::new(),
            }),
        }
    }

    /// Moves `value` into the arena and returns a reference to it, valid as long as the arena.
    /// The value is dropped when the arena drops.
    #[allow(
        clippy::mut_from_ref,
        reason = "each call returns a different slot, so the `&mut`s never alias"
    )]
    pub fn alloc(&self, value: T) -> &mut T {
        // BEGIN SOLUTION: afterwards value is the last value of the current chunk, which never grew past its capacity (a full chunk was put aside in full for one twice as large), and the reference returned covers that value alone
        let mut chunks = self.chunks.borrow_mut();
        if chunks.current.len() == chunks.current.capacity() {
            let capacity = chunks.current.capacity().saturating_mul(2);
            let full = std::mem::replace(&mut chunks.current, Vec::with_capacity(capacity));
            chunks.full.push(full);
        }
        let index = chunks.current.len();
        chunks.current.push(value);
        // `as_mut_ptr` rather than `last_mut`: a `&mut [T]` over the whole chunk would also
        // cover the values handed out before, which are mutably borrowed by their owners.
        // SAFETY: `index` is in bounds (the value was just pushed there).
        let slot = unsafe { chunks.current.as_mut_ptr().add(index) };
        // SAFETY: the chunk had room, so `push` did not reallocate, and no chunk ever will (the
        // invariant of `Chunks`): the value stays at `slot` until the arena drops, which the
        // lifetime of `&self` outlasts. Each call returns a different slot, so the `&mut`s never
        // alias.
        unsafe { &mut *slot }
        // END SOLUTION
    }

    /// How many values the arena holds.
    pub fn len(&self) -> usize {
        let chunks = self.chunks.borrow();
        chunks.current.len() + chunks.full.iter().map(Vec::len).sum::<usize>()
    }

    /// Whether the arena holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many chunks the arena has (a new arena has its first, empty chunk).
    pub fn chunk_count(&self) -> usize {
        self.chunks.borrow().full.len() + 1
    }
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena::new()
    }
}
