//! The sweep, and a whole collection with the program stopped.
//!
//! ```text
//!   collect():   begin a cycle ─▶ mark_roots ─▶ mark ─▶ sweep ─▶ idle
//!                                (shade roots)   (until no gray is left)
//!   sweep():     for every object, in slot order
//!                  white  ─▶ freed              (unreachable: nothing black points to it)
//!                  black  ─▶ white              (ready for the next cycle)
//! ```

use crate::color::{Color, Phase};
use crate::error::TricolorError;
use crate::heap::Heap;
use crate::stats::CycleStats;

impl Heap {
    // ANCHOR: sweep
    /// `sweep()`: marking is complete (no object is gray). Frees every white object with
    /// `Heap::free`, and counts it ([`CycleStats::swept`](crate::CycleStats::swept)); every
    /// black object becomes white again, so that the next cycle starts with every object white.
    /// Objects are visited in slot order ([`Heap::object_ids`]).
    ///
    /// Only white objects are freed: a black one was reached, whatever else is true of it.
    pub fn sweep(&mut self) {
        // BEGIN SOLUTION: free and count each white object; turn each black one white
        for id in self.object_ids() {
            match self.color(id) {
                Color::White => {
                    self.free(id);
                    self.stats.swept += 1;
                }
                Color::Black => self.set_color(id, Color::White),
                Color::Gray => unreachable!("sweep with gray {} left", self.name(id)),
            }
        }
        // END SOLUTION
    }
    // ANCHOR_END: sweep

    // ANCHOR: collect
    /// `collect()`: a whole cycle with the program stopped (what CPython's `gc.collect()` is to
    /// its own collector). Starts the cycle's bookkeeping (`Heap::begin_cycle`: counted, fresh
    /// statistics, [`Phase::Marking`]), shades the roots, marks until no gray object is left,
    /// sweeps, and ends in [`Phase::Idle`]. Returns the cycle's statistics.
    ///
    /// # Errors
    /// [`TricolorError::CycleInProgress`] if an incremental cycle is marking: finish it first.
    pub fn collect(&mut self) -> Result<CycleStats, TricolorError> {
        // BEGIN SOLUTION: refuse while a cycle is marking; otherwise begin a cycle, mark from the roots, sweep, go back to idle, and return the statistics
        if self.phase == Phase::Marking {
            return Err(TricolorError::CycleInProgress);
        }
        self.begin_cycle();
        self.mark_roots();
        self.mark();
        self.sweep();
        self.phase = Phase::Idle;
        Ok(self.stats.clone())
        // END SOLUTION
    }
    // ANCHOR_END: collect
}
