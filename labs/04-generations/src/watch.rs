//! Watching your scheduler work: lab 03's log and stress mode (`cycles::watch`), on this lab's
//! collector. Given: there is nothing to write here.
//!
//! - **log**: each collection prints its phases to stderr as [`Gc::gc_collect_main`] runs
//!   them: the generation collected and why the counts are what they are, what `young` holds,
//!   the garbage found, the survivors untracked and promoted, the long-lived counts, what was
//!   freed, and the statistics recorded;
//! - **stress**: every allocation made through a `_with` constructor runs a full collection
//!   (your [`Gc::collect`]) before the automatic check, so a mistake in what a collection
//!   leaves behind shows at the next allocation.
//!
//! Switch them on for one collector with [`Gc::set_watch`], or for every collector a run
//! makes with `GCLABS_GC=log,stress` (read by [`Gc::new`]). `cargo run -p generations
//! --example watch` shows both.

use cycles::watch::{Snapshot, Watch};
use pyheap::{GcList, Heap};

use crate::state::Gc;

impl Gc {
    /// Switches the log and the stress mode on or off for this collector, whatever
    /// `GCLABS_GC` says.
    pub fn set_watch(&mut self, watch: Watch) {
        self.watch = watch;
    }

    /// Which of the log and the stress mode are on.
    pub fn watch(&self) -> Watch {
        self.watch
    }

    /// Every line the log printed so far, `gc: ` included, in order.
    pub fn watch_log(&self) -> &[String] {
        self.log.lines()
    }

    /// Prints and keeps the line `line` makes, when the log is on (the line is not made
    /// otherwise).
    pub(crate) fn say(&mut self, line: impl FnOnce() -> String) {
        if self.watch.log {
            self.log.say(line());
        }
    }

    /// The objects of `list` described now, when the log is on; nothing otherwise.
    pub(crate) fn snapshot(&self, heap: &Heap, list: GcList) -> Snapshot {
        if self.watch.log {
            Snapshot::of(heap, list)
        } else {
            Snapshot::default()
        }
    }
}
