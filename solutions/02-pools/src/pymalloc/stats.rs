//! Statistics in the spirit of `sys._debugmallocstats()` (CPython's
//! `_PyObject_DebugMallocStats`): per size class, the pools in use, the blocks in use and the
//! blocks still available in them; the arena counters; and where every byte of the arenas goes.
//!
//! ```text
//! >>> import sys; sys._debugmallocstats()
//! Small block threshold = 512, in 32 size classes.
//!
//! class   size   num pools   blocks in use  avail blocks
//! -----   ----   ---------   -------------  ------------
//!     0     16           1             106           915
//!     1     32           3            1148           382
//! ...
//! # arenas allocated total           =                    4
//! # arenas reclaimed                 =                    0
//! # arenas highwater mark            =                    4
//! # arenas allocated current         =                    4
//! ```
//!
//! As in CPython the numbers are not kept up to date on every operation: [`PyMalloc::stats`]
//! walks every carved pool of every arena (full pools are on no list, so walking the lists
//! would miss them). "Available blocks" of a pool are all those not in use, carved or not:
//! `blocks_per_pool(class) - count`. Empty pools are counted as unused pools, with the pools
//! not carved yet, not in their old size class.
//!
//! [`Stats`] is plain data that never allocates, so it can be read even while pymalloc is the
//! global allocator; its `Display` is the text.

use std::fmt;

use super::PyMalloc;
use super::arena_map::NODE_BYTES;
use super::consts::{
    ARENA_SIZE, NB_SMALL_SIZE_CLASSES, POOL_OVERHEAD, POOL_SIZE, SMALL_REQUEST_THRESHOLD,
};
use super::pool::{header_ref, pool_at};
use super::size_class::{block_size, blocks_per_pool};

// ANCHOR: stats_struct
/// A snapshot of the allocator's counters, as `sys._debugmallocstats()` prints them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Per size class (index = class): pools in use, blocks in use, blocks available.
    pub classes: [ClassStats; NB_SMALL_SIZE_CLASSES],
    /// Arenas mapped since the allocator was made ("# arenas allocated total").
    pub arenas_allocated_total: usize,
    /// Arenas unmapped since ("# arenas reclaimed" = total - current).
    pub arenas_reclaimed: usize,
    /// The most arenas mapped at one time ("# arenas highwater mark").
    pub arenas_highwater: usize,
    /// Arenas mapped now ("# arenas allocated current").
    pub arenas_allocated_current: usize,
    /// Pools of the mapped arenas that hold no block: empty pools plus pools not carved yet.
    pub unused_pools: usize,
    /// Bytes of the blocks in use (each block counted at its full class size).
    pub allocated_bytes: usize,
    /// Bytes of the blocks available in used and full pools.
    pub available_bytes: usize,
    /// Bytes of the headers of used and full pools.
    pub pool_header_bytes: usize,
    /// Bytes at the ends of used and full pools too short for one more block.
    pub quantization_bytes: usize,
    /// Bytes lost to aligning arenas to pools: always 0 here, as arenas are aligned.
    pub arena_alignment_bytes: usize,
    /// Middle nodes of the arena map (the radix tree).
    pub arena_map_mid_nodes: usize,
    /// Bottom nodes of the arena map.
    pub arena_map_bot_nodes: usize,
    /// Blocks handed out by the system allocator (0 or more than 512 bytes) and not freed.
    pub raw_allocated_blocks: isize,
}

/// The counters of one size class, over its used and full pools.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassStats {
    /// Pools of this class with at least one block in use ("num pools").
    pub pools: usize,
    /// Blocks handed out and not freed ("blocks in use").
    pub blocks_in_use: usize,
    /// Blocks of these pools not in use, carved yet or not ("avail blocks").
    pub avail_blocks: usize,
}
// ANCHOR_END: stats_struct

impl Stats {
    /// Blocks in use over all size classes.
    pub fn blocks_in_use(&self) -> usize {
        self.classes.iter().map(|c| c.blocks_in_use).sum()
    }

    /// Pools in use (used or full) over all size classes.
    pub fn pools_in_use(&self) -> usize {
        self.classes.iter().map(|c| c.pools).sum()
    }
}

impl PyMalloc {
    /// Collects the statistics by walking every carved pool of every mapped arena, as
    /// `_PyObject_DebugMallocStats` does. Allocates nothing.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats {
            arena_map_mid_nodes: self.arena_map.mid_count,
            arena_map_bot_nodes: self.arena_map.bot_count,
            raw_allocated_blocks: self.raw_allocated_blocks,
            ..Stats::default()
        };
        let mut narenas = 0;
        for (index, arena) in self.arenas.iter().enumerate() {
            let Some(address) = arena.address else {
                continue;
            };
            narenas += 1;
            stats.unused_pools += arena.nfreepools;
            let carved = arena
                .pool_address
                .addr()
                .saturating_sub(address.addr().get())
                / POOL_SIZE;
            for pool_index in 0..carved.min(ARENA_SIZE / POOL_SIZE) {
                let pool = pool_at(address, pool_index);
                // SAFETY: the pool is below the arena's pool_address, so it has been carved and
                // its header written; `&self` means nobody changes it meanwhile.
                let pool_header = unsafe { header_ref(pool) };
                if pool_header.count == 0 {
                    continue;
                }
                let class = pool_header.szidx as usize;
                assert!(
                    class < NB_SMALL_SIZE_CLASSES,
                    "pool {pool_index} of arena {index} has {} blocks in use but size class {class}",
                    pool_header.count
                );
                let c = &mut stats.classes[class];
                c.pools += 1;
                c.blocks_in_use += pool_header.count;
                c.avail_blocks += blocks_per_pool(class).saturating_sub(pool_header.count);
            }
        }
        for (class, c) in stats.classes.iter().enumerate() {
            let size = block_size(class);
            stats.allocated_bytes += c.blocks_in_use * size;
            stats.available_bytes += c.avail_blocks * size;
            stats.pool_header_bytes += c.pools * POOL_OVERHEAD;
            stats.quantization_bytes += c.pools * ((POOL_SIZE - POOL_OVERHEAD) % size);
        }
        stats.arenas_allocated_total = self.ntimes_arena_allocated;
        stats.arenas_reclaimed = self.ntimes_arena_allocated.saturating_sub(narenas);
        stats.arenas_highwater = self.narenas_highwater;
        stats.arenas_allocated_current = narenas;
        stats
    }

    /// The statistics as `sys._debugmallocstats()` prints them (the pymalloc part).
    pub fn debug_malloc_stats(&self) -> String {
        self.stats().to_string()
    }
}

/// One line `msg ... = value`, the value with thousands separators, as CPython's `printone`:
/// the message padded to 35 columns, then `=`, then the value right-aligned in 21 columns.
fn printone(f: &mut fmt::Formatter<'_>, msg: &str, value: usize) -> fmt::Result {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    writeln!(f, "{msg:<35}={grouped:>21}")
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Small block threshold = {SMALL_REQUEST_THRESHOLD}, in {NB_SMALL_SIZE_CLASSES} size classes."
        )?;
        writeln!(f)?;
        writeln!(f, "class   size   num pools   blocks in use  avail blocks")?;
        writeln!(f, "-----   ----   ---------   -------------  ------------")?;
        for (class, c) in self.classes.iter().enumerate() {
            if c.pools == 0 {
                continue;
            }
            writeln!(
                f,
                "{class:>5} {:>6} {:>11} {:>15} {:>13}",
                block_size(class),
                c.pools,
                c.blocks_in_use,
                c.avail_blocks
            )?;
        }
        writeln!(f)?;
        printone(f, "# arenas allocated total", self.arenas_allocated_total)?;
        printone(f, "# arenas reclaimed", self.arenas_reclaimed)?;
        printone(f, "# arenas highwater mark", self.arenas_highwater)?;
        printone(
            f,
            "# arenas allocated current",
            self.arenas_allocated_current,
        )?;
        let current = self.arenas_allocated_current;
        printone(
            f,
            &format!("{current} arenas * {ARENA_SIZE} bytes/arena"),
            current * ARENA_SIZE,
        )?;
        writeln!(f)?;
        printone(f, "# bytes in allocated blocks", self.allocated_bytes)?;
        printone(f, "# bytes in available blocks", self.available_bytes)?;
        printone(
            f,
            &format!("{} unused pools * {POOL_SIZE} bytes", self.unused_pools),
            self.unused_pools * POOL_SIZE,
        )?;
        printone(f, "# bytes lost to pool headers", self.pool_header_bytes)?;
        printone(f, "# bytes lost to quantization", self.quantization_bytes)?;
        printone(
            f,
            "# bytes lost to arena alignment",
            self.arena_alignment_bytes,
        )?;
        let total = self.allocated_bytes
            + self.available_bytes
            + self.unused_pools * POOL_SIZE
            + self.pool_header_bytes
            + self.quantization_bytes
            + self.arena_alignment_bytes;
        printone(f, "Total", total)?;
        writeln!(f)?;
        writeln!(f, "arena map counts")?;
        printone(f, "# arena map mid nodes", self.arena_map_mid_nodes)?;
        printone(f, "# arena map bot nodes", self.arena_map_bot_nodes)?;
        writeln!(f)?;
        let (root, mid, bot) = NODE_BYTES;
        let (root, mid, bot) = (
            if self.arena_map_mid_nodes > 0 {
                root
            } else {
                0
            },
            mid * self.arena_map_mid_nodes,
            bot * self.arena_map_bot_nodes,
        );
        printone(f, "# bytes lost to arena map root", root)?;
        printone(f, "# bytes lost to arena map mid", mid)?;
        printone(f, "# bytes lost to arena map bot", bot)?;
        printone(f, "Total", root + mid + bot)?;
        writeln!(f)?;
        writeln!(f, "system allocator (requests of 0 or more than 512 bytes)")?;
        printone(
            f,
            "# raw allocated blocks",
            self.raw_allocated_blocks.max(0).unsigned_abs(),
        )
    }
}
