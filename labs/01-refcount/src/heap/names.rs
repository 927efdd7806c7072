//! Names and calls: the first two places a count goes up in Python. Binding a name (`x = obj`)
//! stores a reference in the module's globals; passing an argument (`f(obj)`) stores one in the
//! callee's frame for as long as the call runs. Top-level names live until the heap is dropped,
//! as a module's globals live until the interpreter shuts down.

use super::hooks::HeapHooks;
use super::object::ObjId;
use super::slots::Heap;

impl<H: HeapHooks> Heap<H> {
    // ANCHOR: bind
    /// `name = id` at the top level (`STORE_NAME`): the name takes a reference to `id` (which is
    /// borrowed: the caller keeps its own reference, if it had one) and gives up the reference to
    /// the object it named before, if any, which may destroy that object.
    ///
    /// # Panics
    /// If `id` was already destroyed.
    pub fn bind(&mut self, name: &str, id: ObjId) {
        // TODO: afterwards `self.names` maps `name` to `id`, which holds one more reference for it,
        //       and the object the name had before (if any) holds one fewer, and is destroyed if
        //       that was its last
        todo!()
    }
    // ANCHOR_END: bind

    /// `del name` at the top level (`DELETE_NAME`): removes the name and gives up its reference,
    /// which destroys the object if no other reference is left.
    ///
    /// # Panics
    /// With `NameError` if `name` is not bound.
    pub fn unbind(&mut self, name: &str) {
        // TODO: afterwards `name` is not bound and the object it named holds one reference fewer
        //       (destroyed if that was its last). An unbound name is Python's error, in Python's
        //       words: a panic with "NameError: name 'x' is not defined" (with the name)
        todo!()
    }

    /// The object `name` is bound to, if any, as a *borrowed* reference (`PyDict_GetItem` on the
    /// globals): the count does not change, and the handle is good only while the name (or
    /// another owner) keeps the object alive. [`bind`](Heap::bind) it or
    /// [`incref`](Heap::incref) it to keep it longer.
    pub fn lookup(&self, name: &str) -> Option<ObjId> {
        self.names.get(name).copied()
    }

    /// The bound names and their objects, in name order.
    pub fn names(&self) -> impl Iterator<Item = (&str, ObjId)> + '_ {
        self.names.iter().map(|(name, &id)| (name.as_str(), id))
    }

    /// Everything the interpreter itself holds a reference to: the objects bound to names (in name
    /// order), then the arguments of the calls in progress (outermost call first). An object
    /// appears once per reference. These are what a tracing collector starts from; references
    /// held by the caller of this heap (owned temporaries) are not in it.
    pub fn roots(&self) -> Vec<ObjId> {
        self.names
            .values()
            .copied()
            .chain(self.frames.iter().flatten().copied())
            .collect()
    }

    /// Records the arguments of a call that starts (the references themselves are the caller's
    /// business: this only keeps the list for [`roots`](Heap::roots) and the invariant checks).
    pub(super) fn push_frame(&mut self, args: &[ObjId]) {
        self.frames.push(args.to_vec());
    }

    /// Forgets the arguments of the innermost call, which returns, and hands them back.
    pub(super) fn pop_frame(&mut self) -> Vec<ObjId> {
        self.frames
            .pop()
            .expect("pop_frame without a push_frame: no call is in progress")
    }

    // ANCHOR: call
    /// `body(args)`: calls a function with the arguments `args` (borrowed from the caller). For
    /// as long as the call runs, the callee's frame holds a reference to each argument (one per
    /// occurrence: `f(x, x)` adds two), so an argument stays alive during the call even if the
    /// body deletes every name bound to it. When `body` returns, the frame gives its references
    /// up, which may destroy objects; then `call` returns what `body` returned.
    ///
    /// `body` gets the heap and the arguments, which it may use as borrowed references.
    ///
    /// # Panics
    /// If an argument was already destroyed, or if `body` panics.
    pub fn call<R>(&mut self, args: &[ObjId], body: impl FnOnce(&mut Self, &[ObjId]) -> R) -> R {
        // TODO: while `body(self, args)` runs, the callee's frame holds one counted reference per
        //       argument (per occurrence) and is recorded with `push_frame`, so `roots()` lists it;
        //       once `body` returns, the frame is taken back with `pop_frame` and its references
        //       given up (which may destroy objects), and `call` returns what `body` returned
        todo!()
    }
    // ANCHOR_END: call
}

/// Deletes the names still bound, in name order, as an interpreter clears its modules at
/// shutdown: what only they kept alive is destroyed now (the hooks see it). Whatever survives
/// that (objects kept alive by a reference cycle) leaks: it is never destroyed, and the hooks
/// never hear of it again.
///
/// During a panic nothing is deleted: a heap dropped while unwinding may be half-way through an
/// operation, and a second panic would abort the process.
impl<H: HeapHooks> Drop for Heap<H> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let names: Vec<String> = self.names.keys().cloned().collect();
        for name in names {
            // A destructor never runs Python code here, so no name can have disappeared yet;
            // the check only keeps a wrong `unbind` from turning into a confusing second panic.
            if self.names.contains_key(&name) {
                self.unbind(&name);
            }
        }
    }
}
