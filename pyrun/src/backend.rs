//! The collector a run uses: lab 03's `cycles` finding the garbage and lab 04's `generations`
//! scheduling the collections, either yours (`labs`) or the reference solutions (`solutions`).
//!
//! ```text
//!   allocation ──▶ pyheap counts it ──▶ GcLink ──▶ lab 04's Gc::gc_link ──▶ maybe a collection
//!                                                       │ gc_collect_main: your steps 1 to 5
//!                                                       └─▶ Cycles: lab 03's collector finds
//!                                                            and frees the garbage
//! ```
//!
//! The two crates of each side are compiled under their own names (`cycles` and `generations`
//! are yours, `cycles_solution` and `generations_solution` the references), and [`Backend`] is
//! the one interface the interpreter sees, implemented for each side by the same macro.

use pyheap::{Heap, ObjId};

/// What the interpreter asks of the collector: lab 04's `Gc` (which calls lab 03's collector)
/// and lab 03's `gc.set_debug`/`gc.garbage`.
pub trait Backend {
    /// Whose labs these are, for messages: "your labs 03 and 04", "the reference solutions".
    fn description(&self) -> &'static str;
    /// What `_PyObject_GC_Link` does after an allocation was counted.
    fn link(&mut self, heap: &mut Heap);
    /// `gc.collect(generation)`.
    fn collect(&mut self, heap: &mut Heap, generation: i64) -> Result<usize, String>;
    /// A full collection without callbacks, as CPython's shutdown runs one
    /// (`_PyGC_CollectNoFail`).
    fn collect_at_exit(&mut self, heap: &mut Heap);
    /// `gc.get_threshold()`.
    fn thresholds(&self) -> [i32; 3];
    /// `gc.set_threshold(t0[, t1[, t2]])`.
    fn set_threshold(&mut self, t0: i32, t1: Option<i32>, t2: Option<i32>);
    /// `gc.enable()` (true) and `gc.disable()` (false).
    fn set_enabled(&mut self, enabled: bool);
    /// `gc.isenabled()`.
    fn isenabled(&self) -> bool;
    /// `gc.get_stats()`: (collections, collected, uncollectable) per generation.
    fn stats(&self) -> [[usize; 3]; 3];
    /// `gc.get_objects(generation)`: a new list.
    fn get_objects(&mut self, heap: &mut Heap, generation: Option<isize>) -> Result<ObjId, String>;
    /// `gc.freeze()`.
    fn freeze(&mut self, heap: &mut Heap);
    /// `gc.unfreeze()`.
    fn unfreeze(&mut self, heap: &mut Heap);
    /// `gc.get_freeze_count()`.
    fn freeze_count(&self, heap: &Heap) -> usize;
    /// `gc.callbacks` is now `callables` (borrowed: the interpreter's list holds them).
    fn set_callbacks(&mut self, callables: &[ObjId]);
    /// `gc.set_debug(flags)`.
    fn set_debug(&mut self, heap: &mut Heap, flags: u32);
    /// `gc.get_debug()`.
    fn debug(&self) -> u32;
    /// `gc.garbage` (borrowed: the collector holds it), made now if needed.
    fn garbage(&mut self, heap: &mut Heap) -> ObjId;
}

/// Implements [`Backend`] for one side: `$gen` is that side's lab 04 crate, `$cyc` its lab 03.
macro_rules! side {
    ($side:ident, $gen:ident, $cyc:ident, $description:expr) => {
        /// One side's collector: lab 04's `Gc`, whose collections call this side's lab 03.
        pub struct $side {
            gc: $gen::Gc,
            /// Lab 03's collector, shared with the `Cycles` the `Gc` calls, for `gc.set_debug`
            /// and `gc.garbage`.
            collector: std::rc::Rc<std::cell::RefCell<$cyc::Collector>>,
        }

        /// Lab 03's part of each collection, as lab 04's `Gc` calls it.
        #[derive(Debug)]
        struct Cycles(std::rc::Rc<std::cell::RefCell<$cyc::Collector>>);

        impl $gen::Cycles for Cycles {
            fn deduce_unreachable(
                &mut self,
                heap: &mut Heap,
                young: pyheap::GcList,
                unreachable: pyheap::GcList,
            ) {
                $cyc::deduce_unreachable(heap, young, unreachable);
            }

            fn untrack_tuples(&mut self, heap: &mut Heap, young: pyheap::GcList) {
                $cyc::untrack_tuples(heap, young);
            }

            fn handle_unreachable(
                &mut self,
                heap: &mut Heap,
                unreachable: pyheap::GcList,
                old: pyheap::GcList,
            ) -> usize {
                self.0
                    .borrow_mut()
                    .handle_unreachable(heap, unreachable, old)
            }
        }

        impl Default for $side {
            /// A new collector as CPython starts: thresholds (700, 10, 10), enabled.
            fn default() -> Self {
                let collector = std::rc::Rc::new(std::cell::RefCell::new($cyc::Collector::new()));
                $side {
                    gc: $gen::Gc::with_cycles(Box::new(Cycles(collector.clone()))),
                    collector,
                }
            }
        }

        impl Backend for $side {
            fn description(&self) -> &'static str {
                $description
            }

            fn link(&mut self, heap: &mut Heap) {
                pyheap::GcLink::gc_link(&mut self.gc, heap);
            }

            fn collect(&mut self, heap: &mut Heap, generation: i64) -> Result<usize, String> {
                let generation = i32::try_from(generation).unwrap_or(i32::MAX);
                self.gc.collect(heap, generation).map_err(|e| e.to_string())
            }

            fn collect_at_exit(&mut self, heap: &mut Heap) {
                self.gc.clear_callbacks();
                let _ = self.gc.collect(heap, 2);
            }

            fn thresholds(&self) -> [i32; 3] {
                self.gc.get_threshold()
            }

            fn set_threshold(&mut self, t0: i32, t1: Option<i32>, t2: Option<i32>) {
                self.gc.set_threshold(t0, t1, t2);
            }

            fn set_enabled(&mut self, enabled: bool) {
                if enabled {
                    self.gc.enable();
                } else {
                    self.gc.disable();
                }
            }

            fn isenabled(&self) -> bool {
                self.gc.isenabled()
            }

            fn stats(&self) -> [[usize; 3]; 3] {
                self.gc
                    .get_stats()
                    .map(|s| [s.collections, s.collected, s.uncollectable])
            }

            fn get_objects(
                &mut self,
                heap: &mut Heap,
                generation: Option<isize>,
            ) -> Result<ObjId, String> {
                self.gc
                    .get_objects(heap, generation)
                    .map_err(|e| e.to_string())
            }

            fn freeze(&mut self, heap: &mut Heap) {
                self.gc.freeze(heap);
            }

            fn unfreeze(&mut self, heap: &mut Heap) {
                self.gc.unfreeze(heap);
            }

            fn freeze_count(&self, heap: &Heap) -> usize {
                self.gc.get_freeze_count(heap)
            }

            fn set_callbacks(&mut self, callables: &[ObjId]) {
                self.gc.clear_callbacks();
                for &callable in callables {
                    self.gc.add_callback($gen::GcCallback::new(
                        "callback",
                        [$gen::CallbackAction::Call(callable)],
                    ));
                }
            }

            fn set_debug(&mut self, heap: &mut Heap, flags: u32) {
                self.collector.borrow_mut().set_debug(heap, flags);
            }

            fn debug(&self) -> u32 {
                self.collector.borrow().debug()
            }

            fn garbage(&mut self, heap: &mut Heap) -> ObjId {
                self.collector.borrow_mut().garbage_list(heap)
            }
        }
    };
}

#[cfg(feature = "labs")]
mod labs {
    use super::Backend;
    use pyheap::{Heap, ObjId};
    side!(Labs, generations, cycles, "your labs 03 and 04");
}

#[cfg(feature = "solutions")]
mod solutions {
    use super::Backend;
    use cycles_solution as cycles;
    use generations_solution as generations;
    use pyheap::{Heap, ObjId};
    side!(
        Solutions,
        generations,
        cycles,
        "the reference solutions of labs 03 and 04"
    );
}

#[cfg(feature = "labs")]
pub use labs::Labs;
#[cfg(feature = "solutions")]
pub use solutions::Solutions;
