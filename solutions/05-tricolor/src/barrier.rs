//! Write barriers: what a store into an object does for the collector while marking is under
//! way, and the colour of the objects allocated meanwhile.
//!
//! The danger, in one picture. `a` is black (scanned), `b` gray (not yet scanned), `c` white,
//! and only `b` refers to `c`. Between two steps the program runs:
//!
//! ```text
//!   a.x = c        black a now points to white c           (an insertion)
//!   b.c = None     the only gray path to c is gone          (a deletion)
//! ```
//!
//! No step will ever scan `a` again, and no gray object leads to `c`: marking ends with `c`
//! white, and the sweep frees it while `a.x` still refers to it. The bug needs both stores; a
//! barrier breaks either one:
//!
//! | barrier  | on `x.f = y` (while marking) | new objects | final pause          |
//! |----------|------------------------------|-------------|----------------------|
//! | Dijkstra | shade `y`, the new target    | white       | shade the roots again, then mark |
//! | Yuasa    | shade the old `x.f`          | black       | mark what is left    |
//!
//! Every store of the mutator ([`crate::mutator`]) calls [`Heap::write_barrier`] with the
//! reference it overwrites and the one it writes (either may be `None`) before storing.

use pyheap::ObjId;

use crate::color::{Barrier, Color, Phase};
use crate::heap::Heap;

impl Heap {
    /// The write barrier, called by every store into an object just before it happens: `old` is
    /// the reference being overwritten (or removed), `new` the one being written. Calls the
    /// barrier this heap was built with; with [`Barrier::None`] it does nothing.
    pub fn write_barrier(&mut self, old: Option<ObjId>, new: Option<ObjId>) {
        match self.barrier {
            Barrier::None => {}
            Barrier::Dijkstra => self.dijkstra_barrier(new),
            Barrier::Yuasa => self.yuasa_barrier(old),
        }
    }

    // ANCHOR: dijkstra_barrier
    /// Dijkstra's insertion barrier, for a store that writes `new`: while a cycle is marking,
    /// `new` is shaded. The store may be into a black object, and a black object must never
    /// point to a white one (the strong tricolor invariant). Between cycles it does nothing:
    /// every object is white then, and must stay so.
    pub fn dijkstra_barrier(&mut self, new: Option<ObjId>) {
        // BEGIN SOLUTION: while marking, shade the object being written
        if self.phase == Phase::Marking
            && let Some(target) = new
        {
            self.shade(target);
        }
        // END SOLUTION
    }
    // ANCHOR_END: dijkstra_barrier

    // ANCHOR: yuasa_barrier
    /// Yuasa's deletion barrier, for a store that overwrites (or removes) `old`: while a cycle is
    /// marking, `old` is shaded. Every object reachable when the cycle started stays reachable
    /// from something gray until it is marked (snapshot at the beginning), so none is lost,
    /// whatever black objects come to point at. Between cycles it does nothing.
    pub fn yuasa_barrier(&mut self, old: Option<ObjId>) {
        // BEGIN SOLUTION: while marking, shade the object whose reference is being deleted
        if self.phase == Phase::Marking
            && let Some(target) = old
        {
            self.shade(target);
        }
        // END SOLUTION
    }
    // ANCHOR_END: yuasa_barrier

    // ANCHOR: allocation_color
    /// The colour of an object allocated while a cycle is marking (between cycles, new objects
    /// are white whatever this says):
    ///
    /// - with Dijkstra's barrier, white: a new object the program keeps is reached through a
    ///   root at the final pause, or shaded by the store that links it into the heap; one it
    ///   drops is garbage this cycle;
    /// - with Yuasa's barrier, black: nothing would ever shade it (it was in no snapshot, and
    ///   storing it overwrites something else), so it must start marked; it survives this cycle
    ///   even if it is dropped at once;
    /// - with no barrier, white.
    ///
    /// Not gray: a new object holds no references yet, so there is nothing for a scan to do.
    pub fn allocation_color(&self) -> Color {
        // BEGIN SOLUTION: the colour that keeps this heap's barrier correct
        match self.barrier {
            Barrier::Yuasa => Color::Black,
            Barrier::Dijkstra | Barrier::None => Color::White,
        }
        // END SOLUTION
    }
    // ANCHOR_END: allocation_color
}
