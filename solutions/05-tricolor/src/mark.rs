//! Marking from the roots, with the program stopped: the four operations every tracing collector
//! is made of.
//!
//! ```text
//!   mark_roots   every root is shaded: white → gray, onto the worklist
//!   mark         until the worklist is empty: take the top gray object and scan_object it,
//!                which shades what it refers to and turns it black
//! ```
//!
//! When the worklist is empty there is no gray object left. Every root was shaded, every gray
//! object was scanned, and a scan shades everything the object refers to: so every object
//! reachable from the roots is black, and every white object is unreachable. That is the whole
//! argument; incremental marking ([`crate::incremental`]) must keep it true while the program
//! runs between steps.
//!
//! The worklist is what makes marking iterative. A recursive `mark(x) { for y in x { mark(y) } }`
//! keeps the path from the root to the current object on the call stack, and a chain of a million
//! objects overflows any thread's stack; here that state is the worklist, a `Vec` on the heap.

use pyheap::ObjId;

use crate::color::Color;
use crate::heap::Heap;

impl Heap {
    // ANCHOR: shade
    /// `shade(id)`: if `id` is white, it becomes gray and goes on top of the worklist, where a
    /// later scan will find it; a gray or black object is left as it is (it is on the worklist
    /// already, or scanned). Keeps [`CycleStats::largest_gray`](crate::CycleStats::largest_gray)
    /// up to date: the most gray objects there ever were at once this cycle.
    ///
    /// Invariant kept: an object is gray exactly when it is on the worklist, and it is there
    /// once.
    pub fn shade(&mut self, id: ObjId) {
        // BEGIN SOLUTION: a white object turns gray and is pushed on the worklist (count the largest gray set); any other colour is left alone
        if self.color(id) == Color::White {
            self.set_color(id, Color::Gray);
            self.worklist.push(id);
            self.stats.largest_gray = self.stats.largest_gray.max(self.worklist.len());
        }
        // END SOLUTION
    }
    // ANCHOR_END: shade

    // ANCHOR: mark_roots
    /// `mark_roots()`: shades every root, from the bottom of the root stack to its top. A root
    /// that appears twice is shaded once. Scans nothing.
    pub fn mark_roots(&mut self) {
        // BEGIN SOLUTION: shade each root, bottom of the stack first
        for index in 0..self.roots.len() {
            let root = self.roots[index];
            self.shade(root);
        }
        // END SOLUTION
    }
    // ANCHOR_END: mark_roots

    // ANCHOR: scan_object
    /// `scan_object(id)`: `id` is gray and was just taken off the worklist. Shades every object
    /// in the slots of `id` that are still to be scanned ([`Heap::unscanned`] of them: all of
    /// them, unless a step already scanned part of `id`), from the last of those slots to the
    /// first, skipping `None`; then `id` is black, and counts as marked
    /// ([`CycleStats::marked`](crate::CycleStats::marked)).
    ///
    /// Invariant kept: a black object's references were all shaded when it was scanned.
    pub fn scan_object(&mut self, id: ObjId) {
        // BEGIN SOLUTION: shade what the unscanned slots refer to, last slot first, then blacken the object and count it
        for index in (0..self.unscanned(id)).rev() {
            if let Some(target) = self.slot(id, index) {
                self.shade(target);
            }
        }
        self.set_color(id, Color::Black);
        self.stats.marked += 1;
        // END SOLUTION
    }
    // ANCHOR_END: scan_object

    // ANCHOR: mark
    /// `mark()`: scans gray objects, the top of the worklist first, until the worklist is empty.
    /// Afterwards nothing is gray: what the roots reach is black (given that they were shaded),
    /// the rest is white. No recursion: a chain of a million objects marks on a small stack.
    pub fn mark(&mut self) {
        // BEGIN SOLUTION: pop and scan gray objects until none is left
        while let Some(id) = self.worklist.pop() {
            self.scan_object(id);
        }
        // END SOLUTION
    }
    // ANCHOR_END: mark
}
