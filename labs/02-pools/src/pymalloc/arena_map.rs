//! The arena map: which addresses lie in one of our arenas (provided, not a task).
//!
//! `free(p)` gets only an address, and must decide whether `p` is a pymalloc block (then it
//! goes back to its pool) or came from the system allocator (then C's `free` takes it). This is
//! CPython's `address_in_range(p)`, asked on every free and realloc, so it must be fast and must
//! never read memory that is not ours.
//!
//! Since 3.10 (bpo-37448) CPython answers with a radix tree over the address bits, and so do we.
//! A 64-bit address splits into three indices and the offset inside a 1 MiB arena slot:
//!
//! ```text
//!   63           49 48           34 33           20 19                  0
//!   +--------------+---------------+---------------+--------------------+
//!   | top (15 bits)| mid (15 bits) | bot (14 bits) | offset in the arena|
//!   +--------------+---------------+---------------+--------------------+
//!   root[top] -> mid node; mid[mid] -> bot node; bot[bot] -> the arena in this slot, if any
//! ```
//!
//! Nodes are made on demand, zeroed (no arena anywhere), and never freed until the allocator is
//! dropped, as in CPython ("arena map mid nodes" and "bot nodes" in
//! `sys._debugmallocstats()` count them). A lookup is three loads, whatever the number of arenas.
//!
//! **Simpler leaves than CPython's.** A CPython arena starts wherever `mmap` put it, so it may
//! straddle two 1 MiB slots, and each leaf stores the `tail_hi`/`tail_lo` offsets saying which
//! part of the slot is covered. Our arenas are aligned to their size, so each covers exactly one
//! slot, and a leaf simply stores which arena object it is (index + 1; 0 for none). That also
//! gives [`PyMalloc::locate`] the arena of any block in one lookup.

use std::ptr::NonNull;

use super::PyMalloc;
use super::consts::ARENA_BITS;
use crate::os;

/// Bits of an address that index the tree: all 64 (CPython's `IGNORE_BITS` is 0).
const ADDRESS_BITS: u32 = usize::BITS;
/// Bits for the top and the middle level: a third of the 44 bits above the arena offset,
/// rounded up (CPython's `(ADDRESS_BITS - ARENA_BITS + 2) / 3`) = 15.
const INTERIOR_BITS: u32 = (ADDRESS_BITS - ARENA_BITS).div_ceil(3);
const MAP_TOP_BITS: u32 = INTERIOR_BITS;
const MAP_MID_BITS: u32 = INTERIOR_BITS;
/// What is left for the bottom level: 64 - 20 - 30 = 14.
const MAP_BOT_BITS: u32 = ADDRESS_BITS - ARENA_BITS - 2 * INTERIOR_BITS;
const MAP_TOP_LENGTH: usize = 1 << MAP_TOP_BITS;
const MAP_MID_LENGTH: usize = 1 << MAP_MID_BITS;
const MAP_BOT_LENGTH: usize = 1 << MAP_BOT_BITS;
const MAP_BOT_SHIFT: u32 = ARENA_BITS;
const MAP_MID_SHIFT: u32 = MAP_BOT_BITS + MAP_BOT_SHIFT;
const MAP_TOP_SHIFT: u32 = MAP_MID_BITS + MAP_MID_SHIFT;
const _: () = assert!(MAP_TOP_SHIFT + MAP_TOP_BITS == ADDRESS_BITS);

/// The tree's three levels, root first, for the book's picture and the curious: each level's
/// name, how many bits of an address index it, and the lowest of those bits. Below them are the
/// [`ARENA_BITS`] bits of an offset inside a 1 MiB arena slot.
pub const ARENA_MAP_LEVELS: [(&str, u32, u32); 3] = [
    ("top", MAP_TOP_BITS, MAP_TOP_SHIFT),
    ("mid", MAP_MID_BITS, MAP_MID_SHIFT),
    ("bot", MAP_BOT_BITS, MAP_BOT_SHIFT),
];

/// Where `address_in_range(p)` looks: the index into the root, into the middle node and into the
/// bottom node, for the slot that holds address `p`.
pub fn arena_map_indices(p: usize) -> [usize; 3] {
    let (top, mid, bot) = indices(p);
    [top, mid, bot]
}

/// A leaf: for each 1 MiB slot, the arena object index + 1 of the arena there, or 0.
struct BotNode {
    arenas: [u32; MAP_BOT_LENGTH],
}

/// An interior node of the middle level.
struct MidNode {
    ptrs: [*mut BotNode; MAP_MID_LENGTH],
}

/// The root.
struct TopNode {
    ptrs: [*mut MidNode; MAP_TOP_LENGTH],
}

/// The radix tree from 1 MiB address slots to arena objects.
pub(crate) struct ArenaMap {
    /// The root, made (zeroed) at the first arena; null before.
    root: *mut TopNode,
    /// Middle nodes made so far (`arena_map_mid_count`).
    pub(crate) mid_count: usize,
    /// Bottom nodes made so far (`arena_map_bot_count`).
    pub(crate) bot_count: usize,
}

/// The three indices of the slot holding address `p`.
fn indices(p: usize) -> (usize, usize, usize) {
    (
        (p >> MAP_TOP_SHIFT) & (MAP_TOP_LENGTH - 1),
        (p >> MAP_MID_SHIFT) & (MAP_MID_LENGTH - 1),
        (p >> MAP_BOT_SHIFT) & (MAP_BOT_LENGTH - 1),
    )
}

/// A zeroed `T` straight from the OS ([`os::map_aligned`]), or null. Zeroed memory is a valid
/// node: null pointers and zero indices mean "nothing here". Not from C's `calloc`: a node is
/// 64 or 256 KiB of which a program uses a few entries, and fresh pages of a mapping cost no
/// memory until they are written, where `calloc` may hand out reused memory that it must zero,
/// page by page (a quarter of a MiB kept resident for nothing after everything is freed).
fn map_node<T>() -> *mut T {
    const { assert!(size_of::<T>().is_power_of_two()) };
    os::map_aligned(size_of::<T>(), size_of::<T>())
        .map_or(std::ptr::null_mut(), |p| p.as_ptr().cast())
}

/// Gives a node made by [`map_node`] back to the OS; null is ignored.
///
/// # Safety
/// `node` is null or came from `map_node::<T>()`, and nothing uses it again.
unsafe fn unmap_node<T>(node: *mut T) {
    if let Some(node) = NonNull::new(node) {
        // SAFETY: the caller promises the node is ours, mapped with this size, and unused.
        unsafe { os::unmap(node.cast(), size_of::<T>()) }
    }
}

impl ArenaMap {
    /// An empty map: no address is in an arena.
    pub(crate) const fn new() -> Self {
        ArenaMap {
            root: std::ptr::null_mut(),
            mid_count: 0,
            bot_count: 0,
        }
    }

    /// The bottom node for address `p`, making the nodes on the way if `create`; null if it
    /// does not exist (or cannot be made).
    fn bot_node(&mut self, p: usize, create: bool) -> *mut BotNode {
        if self.root.is_null() {
            if !create {
                return std::ptr::null_mut();
            }
            self.root = map_node::<TopNode>();
            if self.root.is_null() {
                return std::ptr::null_mut();
            }
        }
        let (top, mid, _) = indices(p);
        // SAFETY: `root` is a live node made by `map_node` and owned by this map; `&mut
        // self` makes this the only access; `top` is in bounds by the mask.
        let mid_slot = unsafe { &mut (*self.root).ptrs[top] };
        if mid_slot.is_null() {
            if !create {
                return std::ptr::null_mut();
            }
            *mid_slot = map_node::<MidNode>();
            if mid_slot.is_null() {
                return std::ptr::null_mut();
            }
            self.mid_count += 1;
        }
        // SAFETY: as above, for the middle node at `*mid_slot`.
        let bot_slot = unsafe { &mut (**mid_slot).ptrs[mid] };
        if bot_slot.is_null() {
            if !create {
                return std::ptr::null_mut();
            }
            *bot_slot = map_node::<BotNode>();
            if bot_slot.is_null() {
                return std::ptr::null_mut();
            }
            self.bot_count += 1;
        }
        *bot_slot
    }

    /// Records that the arena at `base` (aligned to `ARENA_SIZE`) is described by arena object
    /// `index` (CPython's `arena_map_mark_used(base, 1)`). Returns false if a node could not be
    /// allocated; the arena must then not be used.
    pub(crate) fn mark_used(&mut self, base: NonNull<u8>, index: usize) -> bool {
        let bot = self.bot_node(base.addr().get(), true);
        if bot.is_null() {
            return false;
        }
        let (_, _, leaf) = indices(base.addr().get());
        let value = u32::try_from(index + 1).expect("fewer than 2^32 arena objects");
        // SAFETY: `bot` is a live node owned by this map, reached through `&mut self`.
        unsafe { (*bot).arenas[leaf] = value };
        true
    }

    /// Records that no arena is at `base` any more (`arena_map_mark_used(base, 0)`).
    pub(crate) fn mark_unused(&mut self, base: NonNull<u8>) {
        let bot = self.bot_node(base.addr().get(), false);
        assert!(
            !bot.is_null(),
            "an arena being released was marked when it was mapped"
        );
        let (_, _, leaf) = indices(base.addr().get());
        // SAFETY: `bot` is a live node owned by this map, reached through `&mut self`.
        unsafe { (*bot).arenas[leaf] = 0 };
    }

    /// The arena object index of the arena containing address `p`, if `p` lies in one of our
    /// arenas (CPython's `arena_map_is_used`). Reads only the map, never the memory at `p`.
    pub(crate) fn lookup(&self, p: usize) -> Option<usize> {
        if self.root.is_null() {
            return None;
        }
        let (top, mid, leaf) = indices(p);
        // SAFETY: `root` is a live node owned by this map; `top` is in bounds.
        let mid_node = unsafe { (*self.root).ptrs[top] };
        if mid_node.is_null() {
            return None;
        }
        // SAFETY: a non-null slot holds a live middle node owned by this map.
        let bot_node = unsafe { (*mid_node).ptrs[mid] };
        if bot_node.is_null() {
            return None;
        }
        // SAFETY: a non-null slot holds a live bottom node owned by this map.
        let value = unsafe { (*bot_node).arenas[leaf] };
        (value != 0).then(|| value as usize - 1)
    }
}

impl Drop for ArenaMap {
    fn drop(&mut self) {
        if self.root.is_null() {
            return;
        }
        for top in 0..MAP_TOP_LENGTH {
            // SAFETY: `root` is a live node owned by this map.
            let mid_node = unsafe { (*self.root).ptrs[top] };
            if mid_node.is_null() {
                continue;
            }
            for mid in 0..MAP_MID_LENGTH {
                // SAFETY: a non-null slot holds a live middle node owned by this map.
                let bot_node = unsafe { (*mid_node).ptrs[mid] };
                // SAFETY: the bottom node (or null) came from map_node and is given back once:
                // nothing else points to it.
                unsafe { unmap_node(bot_node) };
            }
            // SAFETY: the middle node came from map_node and is given back once, after its
            // children.
            unsafe { unmap_node(mid_node) };
        }
        // SAFETY: the root came from map_node and is given back once, after its children.
        unsafe { unmap_node(self.root) };
    }
}

impl PyMalloc {
    /// Whether `p` lies in one of this allocator's arenas, i.e. was handed out by pymalloc
    /// rather than by the system allocator (CPython's `address_in_range`, with the radix tree).
    /// Any address may be asked about: only the map is read.
    pub fn address_in_range(&self, p: *const u8) -> bool {
        self.arena_map.lookup(p.addr()).is_some()
    }
}

/// Bytes of the root node, of one middle node and of one bottom node, for the statistics.
pub(crate) const NODE_BYTES: (usize, usize, usize) = (
    size_of::<TopNode>(),
    size_of::<MidNode>(),
    size_of::<BotNode>(),
);
