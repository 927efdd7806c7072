//! The invariant checker (provided): everything a debug build of CPython `assert`s about
//! obmalloc's lists, and a few things it only states in comments, checked at once and reported
//! in words.
//!
//! The graded tests call [`PyMalloc::check_invariants`] after every step of their programs, so a
//! broken list is caught where it breaks, not a thousand operations later as a corrupted block.

use super::PyMalloc;
use super::consts::{
    ARENA_SIZE, DUMMY_SIZE_IDX, MAX_POOLS_IN_ARENA, NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, POOL_SIZE,
};
use super::pool::{PoolP, PoolState, header_ref, next_free, pool_at};
use super::size_class::{block_size, blocks_per_pool};

/// Returns `Err(message)` from the enclosing function.
macro_rules! broken {
    ($($arg:tt)*) => {
        return Err(format!($($arg)*))
    };
}

impl PyMalloc {
    // ANCHOR: check_invariants
    /// Checks every invariant of the allocator's state, and says in words which one broke:
    ///
    /// 1. **Arena objects.** An arena object has an arena behind it exactly when it is not on
    ///    `unused_arena_objects`; the counters agree with the number of mapped arenas; each
    ///    mapped arena is aligned, in the arena map under its own index, and has 64 pools.
    /// 2. **Pools.** Each carved pool knows its arena; its size class, offsets and count are
    ///    consistent; its free list stays inside its carved blocks, never loops, and holds
    ///    exactly the carved blocks not in use. A pool is full exactly when its free list is
    ///    empty; an empty pool is on its arena's `freepools`; `nfreepools` is the number of
    ///    empty pools plus the pools not carved yet.
    /// 3. **usedpools.** `usedpools[c]` is a well-linked list of exactly the used pools of class
    ///    `c`; full and empty pools are on no `usedpools` list.
    /// 4. **usable_arenas.** A well-linked list of exactly the arenas with a free pool, sorted by
    ///    increasing `nfreepools`; `nfp2lasta[n]` is its last arena with `n` free pools; at most
    ///    one arena is wholly free, and then it is the last (bpo-37257).
    pub fn check_invariants(&self) -> Result<(), String> {
        // ANCHOR_END: check_invariants
        self.check_arena_objects()?;
        let used = self.check_pools()?;
        self.check_usedpools(&used)?;
        self.check_usable_arenas()
    }

    /// Invariant 1: arena objects, the unused list and the counters.
    fn check_arena_objects(&self) -> Result<(), String> {
        let n = self.arenas.len();
        let mut on_unused = vec![false; n];
        let mut next = self.unused_arena_objects;
        while let Some(i) = next {
            if i >= n {
                broken!("unused_arena_objects holds arena object {i}, but there are only {n}");
            }
            if on_unused[i] {
                broken!("unused_arena_objects loops: arena object {i} is on it twice");
            }
            on_unused[i] = true;
            next = self.arenas[i].nextarena;
        }
        let mut mapped = 0;
        for (i, arena) in self.arenas.iter().enumerate() {
            match (arena.address, on_unused[i]) {
                (None, false) => broken!(
                    "arena object {i} has no arena but is not on unused_arena_objects \
                     (a released arena object must be pushed there)"
                ),
                (Some(_), true) => broken!(
                    "arena object {i} has an arena but is on unused_arena_objects \
                     (new_arena must take it off the list)"
                ),
                (None, true) => continue,
                (Some(address), false) => {
                    mapped += 1;
                    if !address.addr().get().is_multiple_of(ARENA_SIZE) {
                        broken!("arena {i} at {address:p} is not aligned to ARENA_SIZE");
                    }
                    if self.arena_map.lookup(address.addr().get()) != Some(i) {
                        broken!("arena {i} at {address:p} is not in the arena map under index {i}");
                    }
                    if arena.ntotalpools != MAX_POOLS_IN_ARENA {
                        broken!(
                            "arena {i} has ntotalpools {}, but every arena has {MAX_POOLS_IN_ARENA}",
                            arena.ntotalpools
                        );
                    }
                    let start = address.addr().get();
                    let next_pool = arena.pool_address.addr();
                    if next_pool < start
                        || next_pool > start + ARENA_SIZE
                        || !(next_pool - start).is_multiple_of(POOL_SIZE)
                    {
                        broken!(
                            "arena {i}: pool_address is {:#x} bytes into the arena, not a pool \
                             boundary inside it",
                            next_pool.wrapping_sub(start)
                        );
                    }
                }
            }
        }
        if mapped != self.narenas_currently_allocated {
            broken!(
                "{mapped} arenas are mapped, but narenas_currently_allocated says {}",
                self.narenas_currently_allocated
            );
        }
        if self.ntimes_arena_allocated < mapped || self.narenas_highwater < mapped {
            broken!(
                "{mapped} arenas are mapped, more than the total allocated ({}) or the \
                 highwater mark ({})",
                self.ntimes_arena_allocated,
                self.narenas_highwater
            );
        }
        if self.narenas_highwater > self.ntimes_arena_allocated {
            broken!(
                "the highwater mark ({}) is above the total ever allocated ({})",
                self.narenas_highwater,
                self.ntimes_arena_allocated
            );
        }
        Ok(())
    }

    /// Invariant 2: every carved pool, and each arena's free pools. Returns the used pools
    /// found, as (arena, pool, class), for the usedpools check.
    fn check_pools(&self) -> Result<Vec<(usize, usize, usize)>, String> {
        let mut used = Vec::new();
        for (i, arena) in self.arenas.iter().enumerate() {
            let Some(address) = arena.address else {
                continue;
            };
            let carved = arena
                .pool_address
                .addr()
                .saturating_sub(address.addr().get())
                / POOL_SIZE;
            let mut empty = [false; MAX_POOLS_IN_ARENA];
            for (p, is_empty) in empty.iter_mut().enumerate().take(carved) {
                let pool = pool_at(address, p);
                // SAFETY: the pool is below pool_address, so carved and its header written.
                let h = unsafe { header_ref(pool) };
                if h.arenaindex as usize != i {
                    broken!(
                        "pool {p} of arena {i} says its arena is {} (arenaindex)",
                        h.arenaindex
                    );
                }
                if h.szidx == DUMMY_SIZE_IDX {
                    broken!(
                        "pool {p} of arena {i} was carved but never given a size class \
                         (it still has the dummy one)"
                    );
                }
                let class = h.szidx as usize;
                if class >= NB_SMALL_SIZE_CLASSES {
                    broken!("pool {p} of arena {i} has size class {class}, which does not exist");
                }
                let size = block_size(class);
                let capacity = blocks_per_pool(class);
                if h.maxnextoffset as usize != POOL_SIZE - size {
                    broken!(
                        "pool {p} of arena {i} (class {class}, {size}-byte blocks) has \
                         maxnextoffset {}, not POOL_SIZE - {size} = {}",
                        h.maxnextoffset,
                        POOL_SIZE - size
                    );
                }
                let next = h.nextoffset as usize;
                if next < POOL_OVERHEAD + 2 * size
                    || next > POOL_SIZE
                    || !(next - POOL_OVERHEAD).is_multiple_of(size)
                {
                    broken!(
                        "pool {p} of arena {i} (class {class}) has nextoffset {next}: not a \
                         block boundary between the third block ({}) and the pool's end",
                        POOL_OVERHEAD + 2 * size
                    );
                }
                let carved_blocks = (next - POOL_OVERHEAD) / size;
                if h.count > carved_blocks {
                    broken!(
                        "pool {p} of arena {i} (class {class}) counts {} blocks in use but has \
                         carved only {carved_blocks}",
                        h.count
                    );
                }
                let free = self.check_free_list(i, p, pool, size, next)?;
                if h.count + free != carved_blocks {
                    broken!(
                        "pool {p} of arena {i} (class {class}): {} blocks in use and {free} on \
                         the free list, but {carved_blocks} carved; a block is lost or counted \
                         twice",
                        h.count
                    );
                }
                match h.state() {
                    PoolState::Empty => *is_empty = true,
                    PoolState::Full => {
                        if h.count != capacity {
                            broken!(
                                "pool {p} of arena {i} (class {class}) has no free block but \
                                 only {} of its {capacity} blocks in use: it should have carved \
                                 another block (pymalloc_pool_extend)",
                                h.count
                            );
                        }
                    }
                    PoolState::Used => used.push((i, p, class)),
                }
            }
            // The arena's free pools: exactly its empty carved pools, once each.
            let mut on_list = [false; MAX_POOLS_IN_ARENA];
            let mut listed = 0;
            let mut next = arena.freepools;
            while let Some(pool) = next {
                let Some(p) = pool_number(address.addr().get(), pool) else {
                    broken!("the freepools of arena {i} hold a pool of another arena ({pool:p})");
                };
                if p >= carved {
                    broken!("the freepools of arena {i} hold pool {p}, which is not carved yet");
                }
                if on_list[p] {
                    broken!("the freepools of arena {i} loop: pool {p} is on them twice");
                }
                if !empty[p] {
                    broken!(
                        "pool {p} of arena {i} is on the arena's freepools but has blocks in use"
                    );
                }
                on_list[p] = true;
                listed += 1;
                // SAFETY: the pool is carved in this mapped arena (checked above).
                next = unsafe { header_ref(pool) }.nextpool;
            }
            if let Some(p) = (0..carved).find(|&p| empty[p] && !on_list[p]) {
                broken!("pool {p} of arena {i} is empty but not on the arena's freepools");
            }
            let expected = listed + (MAX_POOLS_IN_ARENA - carved);
            if arena.nfreepools != expected {
                broken!(
                    "arena {i} has nfreepools {}, but {listed} empty pools and {} pools never \
                     carved",
                    arena.nfreepools,
                    MAX_POOLS_IN_ARENA - carved
                );
            }
        }
        Ok(used)
    }

    /// Walks the free list of a carved pool: every block inside the carved part, on a block
    /// boundary, and the list no longer than the carved blocks (a longer one loops). Returns
    /// its length.
    fn check_free_list(
        &self,
        arena: usize,
        p: usize,
        pool: PoolP,
        size: usize,
        nextoffset: usize,
    ) -> Result<usize, String> {
        let carved_blocks = (nextoffset - POOL_OVERHEAD) / size;
        // SAFETY: the pool is carved in a mapped arena (the caller checked).
        let mut next = unsafe { header_ref(pool) }.freeblock;
        let mut len = 0;
        while let Some(block) = next {
            let offset = block.addr().get().wrapping_sub(pool.addr().get());
            if offset < POOL_OVERHEAD
                || offset >= nextoffset
                || !(offset - POOL_OVERHEAD).is_multiple_of(size)
            {
                broken!(
                    "the free list of pool {p} of arena {i} holds {block:p}, which is not one \
                     of its carved blocks (offset {offset:#x})",
                    i = arena
                );
            }
            len += 1;
            if len > carved_blocks {
                broken!(
                    "the free list of pool {p} of arena {arena} is longer than its \
                     {carved_blocks} carved blocks: it loops (a block freed twice?)"
                );
            }
            // SAFETY: the block is a carved block of the pool, on its free list, so its first
            // bytes are a link we wrote.
            next = unsafe { next_free(block) };
        }
        Ok(len)
    }

    /// Invariant 3: `usedpools[c]` holds exactly the used pools of class `c`, well linked.
    fn check_usedpools(&self, used: &[(usize, usize, usize)]) -> Result<(), String> {
        let mut listed = Vec::new();
        for class in 0..NB_SMALL_SIZE_CLASSES {
            let mut prev: Option<PoolP> = None;
            let mut next = self.usedpools[class];
            while let Some(pool) = next {
                let Some(arena) = self.arena_map.lookup(pool.addr().get()) else {
                    broken!("usedpools[{class}] holds {pool:p}, which is in none of our arenas");
                };
                let base = self.arenas[arena].address.map_or(0, |a| a.addr().get());
                let Some(p) = pool_number(base, pool) else {
                    broken!("usedpools[{class}] holds {pool:p}, which is not the start of a pool");
                };
                if listed.len() > self.arenas.len() * MAX_POOLS_IN_ARENA {
                    broken!("usedpools[{class}] holds more pools than the arenas have: it loops");
                }
                // SAFETY: the pool starts a pool of one of our mapped arenas; if it were not
                // carved its header would read as zeroes (fresh mapped memory), never out of
                // bounds.
                let h = unsafe { header_ref(pool) };
                if h.prevpool != prev {
                    broken!(
                        "usedpools[{class}]: pool {p} of arena {arena} has the wrong prevpool \
                         (it must be the pool before it in the list, None for the first)"
                    );
                }
                if h.szidx as usize != class {
                    broken!(
                        "usedpools[{class}] holds pool {p} of arena {arena}, whose size class is {}",
                        h.szidx
                    );
                }
                match h.state() {
                    PoolState::Used => {}
                    state => broken!(
                        "usedpools[{class}] holds pool {p} of arena {arena}, which is {state:?}; \
                         only used pools belong there"
                    ),
                }
                listed.push((arena, p, class));
                prev = Some(pool);
                next = h.nextpool;
            }
        }
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            broken!(
                "pool {} of arena {} is twice in usedpools[{}]",
                w[0].1,
                w[0].0,
                w[0].2
            );
        }
        if let Some((arena, p, class)) = used.iter().find(|u| !sorted.contains(u)) {
            broken!(
                "pool {p} of arena {arena} is used (some blocks in use, some free) but not in \
                 usedpools[{class}]"
            );
        }
        Ok(())
    }

    /// Invariant 4: `usable_arenas` and `nfp2lasta`.
    fn check_usable_arenas(&self) -> Result<(), String> {
        let n = self.arenas.len();
        let mut order = Vec::new();
        let mut prev = None;
        let mut next = self.usable_arenas;
        while let Some(i) = next {
            if i >= n {
                broken!("usable_arenas holds arena object {i}, but there are only {n}");
            }
            if order.contains(&i) {
                broken!("usable_arenas loops: arena {i} is on it twice");
            }
            let arena = &self.arenas[i];
            if arena.address.is_none() {
                broken!("usable_arenas holds arena object {i}, which has no arena");
            }
            if arena.prevarena != prev {
                broken!(
                    "usable_arenas: arena {i} has prevarena {:?}, but the arena before it is {prev:?}",
                    arena.prevarena
                );
            }
            if arena.nfreepools == 0 {
                broken!("usable_arenas holds arena {i}, which has no free pool");
            }
            if let Some(&before) = order.last() {
                let (a, b) = (self.arenas[before].nfreepools, arena.nfreepools);
                if a > b {
                    broken!(
                        "usable_arenas is not sorted by nfreepools: arena {before} ({a} free \
                         pools) comes before arena {i} ({b})"
                    );
                }
            }
            order.push(i);
            prev = Some(i);
            next = arena.nextarena;
        }
        for (i, arena) in self.arenas.iter().enumerate() {
            if arena.address.is_some() && arena.nfreepools > 0 && !order.contains(&i) {
                broken!(
                    "arena {i} has {} free pools but is not in usable_arenas",
                    arena.nfreepools
                );
            }
        }
        for (nf, &finger) in self.nfp2lasta.iter().enumerate() {
            let last = order
                .iter()
                .rev()
                .find(|&&i| self.arenas[i].nfreepools == nf)
                .copied();
            if finger != last {
                broken!(
                    "nfp2lasta[{nf}] is {finger:?}, but the last arena in usable_arenas with \
                     {nf} free pools is {last:?}"
                );
            }
        }
        let wholly_free: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| self.arenas[i].nfreepools == self.arenas[i].ntotalpools)
            .collect();
        match wholly_free.as_slice() {
            [] => {}
            [i] if order.last() == Some(i) => {}
            [i] => broken!(
                "arena {i} is wholly free and not the last in usable_arenas: it should have \
                 been released"
            ),
            more => broken!(
                "arenas {more:?} are all wholly free: only the last in usable_arenas may be kept"
            ),
        }
        Ok(())
    }
}

/// The number of `pool` in the arena starting at `base`, if it lies in that arena.
fn pool_number(base: usize, pool: PoolP) -> Option<usize> {
    let offset = pool.addr().get().checked_sub(base)?;
    (offset < ARENA_SIZE && offset.is_multiple_of(POOL_SIZE)).then_some(offset / POOL_SIZE)
}
