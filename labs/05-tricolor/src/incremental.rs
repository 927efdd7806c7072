//! Incremental marking: the same marking, cut into steps of bounded work, with the program
//! running in between.
//!
//! ```text
//!   start_cycle()   the initial pause: a new cycle, the roots shaded
//!   step(budget)    at most `budget` units of work (slots scanned), then back to the program
//!   step(budget)    ... the program allocates, stores, pushes and pops roots in between ...
//!   finish_cycle()  the final pause: final_pause() finishes marking, then the sweep
//! ```
//!
//! The pause the program feels is one step, not the whole marking. The price: between two steps
//! the program can change the graph behind the collector's back, and only the write barrier
//! ([`crate::barrier`]) keeps marking right.
//!
//! A step counts its work in slots, not objects, so that one huge object cannot blow the budget:
//! a gray object with more slots left than the step has budget left is scanned in part
//! ([`Heap::scan_piece`]) and stays gray, to be resumed by a later step.

use pyheap::ObjId;

use crate::color::{Barrier, Phase};
use crate::error::TricolorError;
use crate::heap::Heap;
use crate::stats::CycleStats;

impl Heap {
    // ANCHOR: start_cycle
    /// `start_cycle()`, the initial pause: starts a new cycle (`Heap::begin_cycle`, which
    /// counts it, resets the statistics and enters [`Phase::Marking`]) and shades the roots.
    /// Scans nothing: the work is the steps'.
    ///
    /// # Errors
    /// [`TricolorError::CycleInProgress`] if a cycle is already marking (and nothing changes).
    pub fn start_cycle(&mut self) -> Result<(), TricolorError> {
        // TODO: refuse a second cycle; otherwise begin one and shade the roots
        todo!()
    }
    // ANCHOR_END: start_cycle

    // ANCHOR: step
    /// `step(budget)`: one increment of marking. Takes gray objects from the top of the
    /// worklist and scans them until `budget` units of work are done or no gray object is left,
    /// and returns the units done. Scanning an object whole costs one unit per slot still to
    /// scan ([`Heap::unscanned`]), and one for an object with none; an object that costs more
    /// than the budget has left is scanned in part instead ([`Heap::scan_piece`]). So a step
    /// never does more than `budget` units.
    ///
    /// Counts the step ([`CycleStats::steps`](crate::CycleStats::steps)) and keeps
    /// [`CycleStats::largest_step`](crate::CycleStats::largest_step) up to date. An empty
    /// worklist does not end the cycle: that is the final pause's job.
    ///
    /// # Errors
    /// [`TricolorError::NoCycle`] if no cycle is marking, [`TricolorError::ZeroBudget`] if
    /// `budget` is 0; either way nothing changes.
    pub fn step(&mut self, budget: usize) -> Result<usize, TricolorError> {
        // TODO: check the phase and the budget; scan gray objects (whole, or a piece of one that
        //       does not fit) until the budget is spent or none is left; count the step and its
        //       work
        todo!()
    }
    // ANCHOR_END: step

    // ANCHOR: scan_piece
    /// `scan_piece(id, limit)`: scans part of a large gray object. `id` was just taken off the
    /// worklist and has more slots left to scan than `limit` (> 0). Shades what the last `limit`
    /// of its unscanned slots refer to, from the last to the first, and records that only the
    /// ones before them are left (`Heap::set_unscanned`). `id` stays gray: it goes back on the
    /// worklist *before* the objects it shades, so that they are scanned first and the gray set
    /// stays small. Returns the units of work done: `limit`.
    ///
    /// (If `limit` covers every slot left, the object is simply scanned whole, as
    /// [`Heap::scan_object`] does, and the cost of that is returned.)
    ///
    /// Invariant kept: the scanned slots of a gray object were shaded, as a black object's were;
    /// a later step resumes at the first slot left.
    pub fn scan_piece(&mut self, id: ObjId, limit: usize) -> usize {
        // TODO: push the object back (still gray), shade the last `limit` unscanned slots, record
        //       how many are left
        todo!()
    }
    // ANCHOR_END: scan_piece

    // ANCHOR: final_pause
    /// `final_pause()`: finishes marking with the program stopped. Under Dijkstra's barrier the
    /// roots are shaded again first: pushing a root has no barrier, so a root may hold an object
    /// no step has seen. Then gray objects are scanned until none is left, however long that
    /// takes. Under Yuasa's barrier (and with none) the roots are not shaded again.
    ///
    /// Afterwards marking is complete: nothing is gray. The phase does not change (the sweep
    /// comes next, in [`finish_cycle`](Heap::finish_cycle)).
    pub fn final_pause(&mut self) {
        // TODO: under Dijkstra's barrier shade the roots again; then mark until no gray is left
        todo!()
    }
    // ANCHOR_END: final_pause

    // ANCHOR: finish_cycle
    /// `finish_cycle()`: the final pause ([`final_pause`](Heap::final_pause)), then the sweep;
    /// the cycle is over ([`Phase::Idle`]). Records how many objects the final pause scanned
    /// ([`CycleStats::final_pause`](crate::CycleStats::final_pause): the growth of
    /// [`CycleStats::marked`](crate::CycleStats::marked) during it) and returns the cycle's
    /// statistics.
    ///
    /// # Errors
    /// [`TricolorError::NoCycle`] if no cycle is marking.
    pub fn finish_cycle(&mut self) -> Result<CycleStats, TricolorError> {
        // TODO: refuse without a cycle; otherwise the final pause (count what it scanned), the
        //       sweep, back to idle, and return the statistics
        todo!()
    }
    // ANCHOR_END: finish_cycle
}
