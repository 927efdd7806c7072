//! One step at a time (provided, not a task): the functions of the first tasks, run on their
//! own, before `malloc` can run them.
//!
//! The first `malloc` of a small block needs a new arena, a new pool, the lists of used pools
//! and `allocate_from_new_pool`, all at once. [`Steps`] lets a test call your `new_arena`,
//! `init_pool`, `insert_to_usedpool` and `unlink_from_usedpools` one at a time, on pools named
//! by their arena and their number in it, and look at what each did through the views of
//! [`locate`](super::locate). It checks what it is given first, and refuses a pool in the wrong
//! state with a [`StepError`], in the words of the function's contract, instead of letting the
//! function run where it must not. A program never needs it: it calls `malloc`, `free` and
//! `realloc`.
//!
//! One thing here is not yours: [`Steps::carve_pool`] carves a pool off an arena, as
//! `allocate_from_new_pool` carves one, so that `init_pool` and the lists can be tested before
//! `allocate_from_new_pool` is written. The allocator never calls it: your
//! `allocate_from_new_pool` carves its own pools.

use std::fmt;
use std::ptr::NonNull;

use super::PyMalloc;
use super::consts::{DUMMY_SIZE_IDX, MAX_POOLS_IN_ARENA, NB_SMALL_SIZE_CLASSES, POOL_SIZE};
use super::pool::{PoolHeader, PoolP, PoolState, header, init_pool, pool_at};

/// A pool, named as the tests and the views name it: its arena object and its number in the
/// arena (0 to 63, from the arena's start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId {
    /// The index of the arena object.
    pub arena: usize,
    /// The pool's number in its arena.
    pub pool: usize,
}

impl fmt::Display for PoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pool {} of arena {}", self.pool, self.arena)
    }
}

/// Why a step was refused: what it was given breaks the contract of the function it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError {
    /// What was wrong, as a sentence.
    pub message: String,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StepError {}

fn refuse<T>(message: String) -> Result<T, StepError> {
    Err(StepError { message })
}

/// The steps of the first tasks, on one allocator: see the [module documentation](self).
pub struct Steps<'a> {
    heap: &'a mut PyMalloc,
}

impl PyMalloc {
    /// The steps of the first tasks, one at a time, for the tests (see [`Steps`]).
    pub fn steps(&mut self) -> Steps<'_> {
        Steps { heap: self }
    }
}

impl Steps<'_> {
    /// Runs your `new_arena`: maps an arena and returns its arena object's index, or `None`.
    /// The arena is in no list afterwards (`allocate_from_new_pool` links it), so
    /// `check_invariants` would say it is missing from `usable_arenas`.
    pub fn new_arena(&mut self) -> Option<usize> {
        self.heap.new_arena()
    }

    /// Carves the next pool off arena `arena` (test scaffolding, not yours): the pool at the
    /// arena's `pool_address` gets the arena's index and no size class (`DUMMY_SIZE_IDX`),
    /// `pool_address` moves past it and `nfreepools` counts it out. The pool is in no list and
    /// none of its blocks is set up.
    pub fn carve_pool(&mut self, arena: usize) -> Result<PoolId, StepError> {
        let Some(info) = self.heap.arena_info(arena) else {
            return refuse(format!(
                "arena object {arena} has no arena behind it: new_arena maps one"
            ));
        };
        if info.carved_pools >= MAX_POOLS_IN_ARENA {
            return refuse(format!(
                "every pool of arena {arena} is carved already: its pool_address is at its end"
            ));
        }
        let ao = &mut self.heap.arenas[arena];
        let pool: PoolP = NonNull::new(ao.pool_address.cast::<PoolHeader>())
            .expect("a mapped arena's pools are not null");
        ao.pool_address = ao.pool_address.wrapping_add(POOL_SIZE);
        ao.nfreepools -= 1;
        // SAFETY: the pool lies in the mapped arena, below the new pool_address: it is carved
        // now and nothing else references its header.
        let pool_header = unsafe { header(pool) };
        pool_header.arenaindex = u32::try_from(arena).expect("fewer than 2^32 arenas");
        pool_header.szidx = DUMMY_SIZE_IDX;
        Ok(PoolId {
            arena,
            pool: info.carved_pools,
        })
    }

    /// Runs your `init_pool` on `pool` for size class `class`, then sets the pool's `count` to
    /// 1, as `allocate_from_new_pool` does, since the block `init_pool` returns is handed out.
    /// Returns that block (to locate, not to use). `pool` must be carved, with no block in use,
    /// and on no list.
    pub fn init_pool(&mut self, pool: PoolId, class: usize) -> Result<NonNull<u8>, StepError> {
        let p = self.carved(pool)?;
        check_class(class)?;
        let info = self
            .heap
            .pool_info(pool.arena, pool.pool)
            .expect("checked carved");
        if info.blocks_in_use != 0 {
            return refuse(format!(
                "{pool} has {} blocks in use: init_pool sets up only a pool none of whose blocks \
                 is in use",
                info.blocks_in_use
            ));
        }
        if self.heap.freepools(pool.arena).contains(&pool.pool) {
            return refuse(format!(
                "{pool} is on its arena's freepools: allocate_from_new_pool takes a pool off \
                 that list before it sets the pool up"
            ));
        }
        // SAFETY: the pool is carved off a mapped arena of this allocator and none of its
        // blocks is in use (both checked above).
        let block = unsafe { init_pool(p, class) };
        // SAFETY: as above; `init_pool`'s reference to the header is gone.
        unsafe { header(p) }.count = 1;
        Ok(block)
    }

    /// Runs your `insert_to_usedpool` on `pool` for size class `class`. `pool` must be used
    /// (set up by `init_pool` for `class`, some blocks in use and a free one left) and in no
    /// `usedpools` list.
    pub fn insert_to_usedpool(&mut self, pool: PoolId, class: usize) -> Result<(), StepError> {
        let p = self.carved(pool)?;
        check_class(class)?;
        let info = self
            .heap
            .pool_info(pool.arena, pool.pool)
            .expect("checked carved");
        if info.state != PoolState::Used {
            return refuse(format!(
                "{pool} is {:?}: only a used pool (a block in use, a free one left) goes into \
                 usedpools; set it up with init_pool first",
                info.state
            ));
        }
        if info.size_class != Some(class) {
            return refuse(format!(
                "{pool} holds blocks of size class {:?}, not {class}",
                info.size_class
            ));
        }
        if let Some(c) = self.usedpools_holding(pool) {
            return refuse(format!(
                "{pool} is in usedpools[{c}] already: a pool is in one list at most"
            ));
        }
        self.heap.insert_to_usedpool(p, class);
        Ok(())
    }

    /// Runs your `unlink_from_usedpools` on `pool`, which must be in a `usedpools` list.
    pub fn unlink_from_usedpools(&mut self, pool: PoolId) -> Result<(), StepError> {
        let p = self.carved(pool)?;
        if self.usedpools_holding(pool).is_none() {
            return refuse(format!("{pool} is in no usedpools list"));
        }
        self.heap.unlink_from_usedpools(p);
        Ok(())
    }

    /// The header address of `pool`, if it has been carved off a mapped arena.
    fn carved(&self, pool: PoolId) -> Result<PoolP, StepError> {
        let Some(info) = self.heap.arena_info(pool.arena) else {
            return refuse(format!(
                "arena object {} has no arena behind it: new_arena maps one",
                pool.arena
            ));
        };
        if pool.pool >= info.carved_pools {
            return refuse(format!(
                "{pool} has not been carved: the pools of an arena below its pool_address are \
                 carved ({} so far)",
                info.carved_pools
            ));
        }
        let base = self.heap.arenas[pool.arena]
            .address
            .expect("a mapped arena has an address");
        Ok(pool_at(base, pool.pool))
    }

    /// The size class whose `usedpools` list holds `pool`, if any.
    fn usedpools_holding(&self, pool: PoolId) -> Option<usize> {
        (0..NB_SMALL_SIZE_CLASSES).find(|&c| {
            self.heap
                .usedpools(c)
                .iter()
                .any(|p| (p.arena, p.pool) == (pool.arena, pool.pool))
        })
    }
}

/// `Ok` for a size class that exists.
fn check_class(class: usize) -> Result<(), StepError> {
    if class < NB_SMALL_SIZE_CLASSES {
        Ok(())
    } else {
        refuse(format!(
            "there is no size class {class}: the classes are 0 to {}",
            NB_SMALL_SIZE_CLASSES - 1
        ))
    }
}
