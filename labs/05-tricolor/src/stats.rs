//! What a cycle did, in numbers, and the floating garbage it leaves for the next one.
//!
//! A unit of *work* is one slot scanned; an object with no slot left to scan costs one unit, for
//! the visit itself. A step's budget is in units, so that a list of a million items costs a
//! million, not one.

use pyheap::ObjId;

use crate::color::Color;
use crate::heap::Heap;

/// The statistics of one cycle. The collector's functions keep them as they go: which field is
/// whose is said on each.
#[derive(Clone, PartialEq, Eq, Default, Debug)]
pub struct CycleStats {
    /// Which cycle (1 for the first).
    pub cycle: u64,
    /// Objects scanned black this cycle ([`scan_object`](Heap::scan_object), and
    /// [`scan_piece`](Heap::scan_piece) when it finishes an object). Objects allocated black are
    /// not counted: nobody scanned them.
    pub marked: usize,
    /// Objects the sweep freed ([`sweep`](Heap::sweep)).
    pub swept: usize,
    /// The most gray objects at once: the worklist's greatest length ([`shade`](Heap::shade)).
    pub largest_gray: usize,
    /// How many incremental steps ran ([`step`](Heap::step)).
    pub steps: usize,
    /// The most units of work one step did ([`step`](Heap::step)).
    pub largest_step: usize,
    /// Objects scanned in the final pause ([`finish_cycle`](Heap::finish_cycle)).
    pub final_pause: usize,
}

impl Heap {
    // ANCHOR: floating_garbage
    /// The floating garbage of the cycle: the black objects that no root reaches now. Once
    /// marking is complete (after [`final_pause`](Heap::final_pause), before the sweep) they are
    /// garbage the sweep will keep anyway, because they were marked: objects that became
    /// unreachable after the collector reached them, or that were shaded by a barrier or
    /// allocated black and dropped since. The next cycle frees them.
    ///
    /// In slot order. A plain question about the heap as it is now: it changes nothing, and it
    /// needs no recursion (a chain of a million objects is an ordinary heap).
    pub fn floating_garbage(&self) -> Vec<ObjId> {
        // TODO: which black objects are not reachable from the roots now
        todo!()
    }
    // ANCHOR_END: floating_garbage
}
