//! Where things are: which arena, pool and block an address is, and read-only views of the
//! lists (provided, not a task).
//!
//! Addresses differ from one allocator to the next (the OS maps arenas where it likes), but
//! *locations* do not: pymalloc's policy is deterministic, so two correct allocators given the
//! same requests put every block in the same arena object, the same pool of it and the same
//! block of that pool. The graded tests compare your allocator's locations with the reference
//! solution's after every step; the first difference is the first wrong decision.
//!
//! The views walk lists that your code builds. A list that loops forever (a pool linked to
//! itself, say) would hang them, so every walk stops after more steps than the list can have
//! and panics with the name of the list instead.

use std::ptr::NonNull;

use super::PyMalloc;
use super::consts::{
    ARENA_SIZE, DUMMY_SIZE_IDX, MAX_POOLS_IN_ARENA, NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, POOL_SIZE,
};
use super::pool::{PoolP, PoolState, header_ref, next_free, pool_at};
use super::size_class::{block_size, blocks_per_pool};

/// Where a block is: which arena object, which pool of that arena (0 to 63, from the arena's
/// start), which block of that pool (0 is the first block after the header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The index of the arena object in the arena vector.
    pub arena: usize,
    /// The pool's number in its arena.
    pub pool: usize,
    /// The block's number in its pool.
    pub block: usize,
}

/// What a pool's header says, for tests and the book's examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolInfo {
    /// The arena object of the pool's arena.
    pub arena: usize,
    /// The pool's number in its arena.
    pub pool: usize,
    /// Used, full or empty.
    pub state: PoolState,
    /// Its size class (an empty pool keeps the one it had), or `None` if it never had one.
    pub size_class: Option<usize>,
    /// Blocks handed out (`ref.count`).
    pub blocks_in_use: usize,
    /// Blocks carved so far: those before `nextoffset`, handed out or on the free list.
    pub carved_blocks: usize,
    /// The length of its free list.
    pub free_list_len: usize,
}

/// What an arena object says, for tests and the book's examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArenaInfo {
    /// The arena object's index in the arena vector.
    pub index: usize,
    /// Free pools: empty ones plus those not carved yet.
    pub nfreepools: usize,
    /// All its pools (64).
    pub ntotalpools: usize,
    /// Pools carved so far (those below `pool_address`).
    pub carved_pools: usize,
}

impl PyMalloc {
    /// Where the block containing address `p` is, if `p` lies in a carved pool of one of our
    /// arenas (past the pool's header); `None` for anything else, such as a block of the system
    /// allocator.
    pub fn locate(&self, p: *const u8) -> Option<Location> {
        let arena = self.arena_map.lookup(p.addr())?;
        let ao = &self.arenas[arena];
        let base = ao.address?;
        let offset_in_arena = p.addr().checked_sub(base.addr().get())?;
        let pool = offset_in_arena / POOL_SIZE;
        if offset_in_arena >= ao.pool_address.addr().saturating_sub(base.addr().get()) {
            return None; // in a pool not carved yet
        }
        // SAFETY: the pool is below its arena's pool_address, so carved and its header written;
        // `&self` means nobody changes it meanwhile.
        let class = unsafe { header_ref(pool_at(base, pool)) }.szidx as usize;
        if class >= NB_SMALL_SIZE_CLASSES {
            return None;
        }
        let offset = offset_in_arena % POOL_SIZE;
        let block = offset.checked_sub(POOL_OVERHEAD)? / block_size(class);
        Some(Location { arena, pool, block })
    }

    /// How many arena objects there are (CPython's `maxarenas`): 0, then 16, 32, 64, ...
    pub fn arena_objects(&self) -> usize {
        self.arenas.len()
    }

    /// The arena object `index`, if it has an arena behind it.
    pub fn arena_info(&self, index: usize) -> Option<ArenaInfo> {
        if index >= self.arenas.len() {
            return None;
        }
        let arena = &self.arenas[index];
        let base = arena.address?;
        Some(ArenaInfo {
            index,
            nfreepools: arena.nfreepools,
            ntotalpools: arena.ntotalpools,
            carved_pools: arena.pool_address.addr().saturating_sub(base.addr().get()) / POOL_SIZE,
        })
    }

    /// The first byte of the arena of arena object `index`, if it has one (to compare or to
    /// pass to [`address_in_range`](PyMalloc::address_in_range), not to read).
    pub fn arena_address(&self, index: usize) -> Option<*const u8> {
        if index >= self.arenas.len() {
            return None;
        }
        self.arenas[index].address.map(|a| a.as_ptr().cast_const())
    }

    /// What the header of pool `pool` of arena object `arena` says, if that pool has been
    /// carved.
    pub fn pool_info(&self, arena: usize, pool: usize) -> Option<PoolInfo> {
        let info = self.arena_info(arena)?;
        if pool >= info.carved_pools.min(MAX_POOLS_IN_ARENA) {
            return None;
        }
        let base = self.arenas[arena].address?;
        Some(self.describe(arena, pool, pool_at(base, pool)))
    }

    /// Reads the header of the carved pool `p` (pool `pool` of arena `arena`).
    fn describe(&self, arena: usize, pool: usize, p: PoolP) -> PoolInfo {
        // SAFETY: `p` is a carved pool of a mapped arena (every caller checks or knows it), so
        // its header was written by us; `&self` means nobody changes it meanwhile.
        let h = unsafe { header_ref(p) };
        let class = h.szidx as usize;
        let size_class = (class < NB_SMALL_SIZE_CLASSES).then_some(class);
        let carved_blocks = match size_class {
            Some(class) => {
                (h.nextoffset as usize).saturating_sub(POOL_OVERHEAD) / block_size(class)
            }
            None => 0,
        };
        let limit = size_class.map_or(0, blocks_per_pool);
        let mut free_list_len = 0;
        let mut next = h.freeblock;
        while let Some(block) = next {
            free_list_len += 1;
            assert!(
                free_list_len <= limit,
                "the free list of pool {pool} of arena {arena} is longer than the pool's \
                 {limit} blocks: it loops, or the pool's size class is wrong"
            );
            assert!(
                in_pool(p, block),
                "the free list of pool {pool} of arena {arena} leads out of the pool, to {block:p}"
            );
            // SAFETY: `block` is on the pool's free list and inside the pool, so its first
            // bytes are a link we wrote.
            next = unsafe { next_free(block) };
        }
        PoolInfo {
            arena,
            pool,
            state: h.state(),
            size_class: if h.szidx == DUMMY_SIZE_IDX {
                None
            } else {
                size_class
            },
            blocks_in_use: h.count,
            carved_blocks,
            free_list_len,
        }
    }

    /// The pools of `usedpools[class]`, first to last: where the next allocations of that size
    /// class come from.
    pub fn usedpools(&self, class: usize) -> Vec<PoolInfo> {
        let mut pools = Vec::new();
        let mut next = self.usedpools[class];
        while let Some(p) = next {
            assert!(
                pools.len() < self.arenas.len() * MAX_POOLS_IN_ARENA,
                "usedpools[{class}] has more pools than the arenas: it loops"
            );
            let (arena, pool) = self.pool_location(p);
            pools.push(self.describe(arena, pool, p));
            // SAFETY: `p` is in usedpools, so it is a carved pool of a mapped arena.
            next = unsafe { header_ref(p) }.nextpool;
        }
        pools
    }

    /// The pools of `usedpools[class]` read backwards, from the last to the first through the
    /// `prevpool` links: the same pools as [`usedpools`](PyMalloc::usedpools) in reverse order
    /// when the list is well linked.
    pub fn usedpools_from_last(&self, class: usize) -> Vec<PoolInfo> {
        let limit = self.arenas.len() * MAX_POOLS_IN_ARENA;
        let mut last = None;
        let mut next = self.usedpools[class];
        let mut steps = 0;
        while let Some(p) = next {
            steps += 1;
            assert!(
                steps <= limit,
                "usedpools[{class}] has more pools than the arenas: it loops"
            );
            last = Some(p);
            // SAFETY: `p` is in usedpools, so it is a carved pool of a mapped arena.
            next = unsafe { header_ref(p) }.nextpool;
        }
        let mut pools = Vec::new();
        let mut prev = last;
        while let Some(p) = prev {
            assert!(
                pools.len() < limit,
                "usedpools[{class}] read backwards through prevpool loops"
            );
            let (arena, pool) = self.pool_location(p);
            pools.push(self.describe(arena, pool, p));
            // SAFETY: `p` is linked from usedpools, so it is a carved pool of a mapped arena.
            prev = unsafe { header_ref(p) }.prevpool;
        }
        pools
    }

    /// The free list of pool `pool` of arena object `arena`, head first, as block numbers in
    /// the pool; empty if the pool has not been carved.
    pub fn free_list(&self, arena: usize, pool: usize) -> Vec<usize> {
        let Some(info) = self.pool_info(arena, pool) else {
            return Vec::new();
        };
        let Some(class) = info.size_class else {
            return Vec::new();
        };
        let base = self.arenas[arena]
            .address
            .expect("a carved pool's arena is mapped");
        let p = pool_at(base, pool);
        let mut blocks = Vec::new();
        // SAFETY: the pool is carved (pool_info checked), so its header was written by us.
        let mut next = unsafe { header_ref(p) }.freeblock;
        // `pool_info` walked this list already and found it short and inside the pool.
        while let Some(block) = next {
            blocks.push((block.addr().get() - p.addr().get() - POOL_OVERHEAD) / block_size(class));
            // SAFETY: `block` is on the pool's free list and inside the pool, so its first bytes
            // are a link we wrote.
            next = unsafe { next_free(block) };
        }
        blocks
    }

    /// The arenas of `usable_arenas`, first to last: the most used first, where the next pool is
    /// taken from.
    pub fn usable_arenas(&self) -> Vec<ArenaInfo> {
        let mut arenas = Vec::new();
        let mut next = self.usable_arenas;
        while let Some(index) = next {
            assert!(
                arenas.len() < self.arenas.len(),
                "usable_arenas has more entries than there are arena objects: it loops"
            );
            let info = self.arena_info(index).unwrap_or_else(|| {
                panic!("usable_arenas holds arena object {index}, which has no arena")
            });
            arenas.push(info);
            next = self.arenas[index].nextarena;
        }
        arenas
    }

    /// `nfp2lasta`: for each number of free pools that some usable arena has, the last arena of
    /// `usable_arenas` with that many, by increasing number: `(nfreepools, arena)`.
    pub fn nfp2lasta(&self) -> Vec<(usize, usize)> {
        self.nfp2lasta
            .iter()
            .enumerate()
            .filter_map(|(count, arena)| arena.map(|arena| (count, arena)))
            .collect()
    }

    /// The pools on the `freepools` list of arena object `arena`, first to last (by their
    /// number in the arena): the empty pools, most recently emptied first.
    pub fn freepools(&self, arena: usize) -> Vec<usize> {
        let mut pools = Vec::new();
        if arena >= self.arenas.len() {
            return pools;
        }
        let mut next = self.arenas[arena].freepools;
        while let Some(p) = next {
            assert!(
                pools.len() < MAX_POOLS_IN_ARENA,
                "the freepools of arena {arena} hold more pools than an arena has: it loops"
            );
            let (_, pool) = self.pool_location(p);
            pools.push(pool);
            // SAFETY: `p` is on an arena's freepools, so it is a carved pool of a mapped arena.
            next = unsafe { header_ref(p) }.nextpool;
        }
        pools
    }

    /// The arena object and pool number of the pool `p`, found through the arena map (not
    /// through the header's `arenaindex`, which the invariant checker verifies separately).
    fn pool_location(&self, p: PoolP) -> (usize, usize) {
        let arena = self
            .arena_map
            .lookup(p.addr().get())
            .unwrap_or_else(|| panic!("a list holds the pool at {p:p}, which is in no arena"));
        let base = self.arenas[arena]
            .address
            .expect("the arena map only holds mapped arenas");
        (
            arena,
            (p.addr().get() - base.addr().get()) % ARENA_SIZE / POOL_SIZE,
        )
    }
}

/// Whether `block` lies past the header of pool `pool`.
fn in_pool(pool: PoolP, block: NonNull<u8>) -> bool {
    let start = pool.addr().get();
    let b = block.addr().get();
    b >= start + POOL_OVERHEAD && b < start + POOL_SIZE
}
