//! `Rc<T>` and `Weak<T>`: one value, many owners, freed the moment the last owner lets go.
//!
//! # The problem
//!
//! Several parts of a program hold the same value, and none of them knows which one will be the
//! last to let go. Whoever is last must drop the value; nobody else may. A reference count solves
//! it: the value carries the number of pointers to it, every new pointer adds one, every dropped
//! pointer takes one away, and the pointer that brings the count to zero drops the value. CPython
//! works this way: every object's header holds `ob_refcnt`, `Py_INCREF` and `Py_DECREF` move it,
//! and the object is deallocated the moment it reaches zero.
//!
//! Some pointers should not keep the value alive: a child pointing back at its parent, a cache
//! that must not stop its entries from dying. Those are *weak* pointers. A [`Weak`] can ask "is
//! the value still there?" and, if it is, turn itself into a strong [`Rc`] ([`Weak::upgrade`]).
//! To answer that question after the value is gone, the `Weak` needs somewhere to look that is
//! still allocated. So the value and the memory around it die at different moments.
//!
//! # The box and its two counts
//!
//! [`Rc::new`] makes one heap allocation, the *box*, holding two counts and the value. Every
//! `Rc` and every `Weak` is a pointer to the box:
//!
//! ```text
//!   Rc<T>       Rc<T>             Weak<T>
//!     |           |                  |
//!     v           v                  v
//!   +------------------------------------------+
//!   | RcBox<T>              (one allocation)   |
//!   |   counts.strong: Cell<usize>  = 2        |  <- how many Rc<T> point here
//!   |   counts.weak:   Cell<usize>  = 1        |  <- how many Weak<T> point here
//!   |   value:         ManuallyDrop<T>         |  <- alive while strong > 0
//!   +------------------------------------------+
//! ```
//!
//! Two invariants say when each part dies:
//!
//! * **the value lives while `strong > 0`**: the `Rc` that brings `strong` to 0 drops the value;
//! * **the box lives while `strong + weak > 0`**: whichever pointer brings the sum to 0 frees it.
//!
//! | operation         | strong | weak | then                                                 |
//! |-------------------|--------|------|------------------------------------------------------|
//! | [`Rc::new`]       | 1      | 0    |                                                      |
//! | [`Rc::clone`]     | +1     |      |                                                      |
//! | drop an `Rc`      | -1     |      | at 0: drop the value, then free the box if weak is 0 |
//! | [`Rc::downgrade`] |        | +1   |                                                      |
//! | [`Weak::upgrade`] | +1     |      | only if strong > 0; otherwise `None`                 |
//! | drop a `Weak`     |        | -1   | at weak 0 and strong 0: free the box                 |
//!
//! The parts come from the standard library, each for one reason:
//!
//! * `Cell<usize>` for the counts, because [`Rc::clone`] only has `&self` and must still change
//!   the count (interior mutability; safe because `Rc` never leaves its thread).
//! * `NonNull<RcBox<T>>` for the pointer: never null (so `Option<Rc<T>>` is one word), and
//!   covariant in `T` like `&T`.
//! * `ManuallyDrop<T>` for the value, because the value is dropped by hand when `strong` reaches
//!   0, possibly long before the box is freed; freeing the box must not drop it a second time.
//! * The two counts in a struct of their own, `Counts`, so that code can borrow the counts
//!   without borrowing the value next to them, which may be mutably borrowed, or in the middle
//!   of its own `Drop`, at that moment.
//! * `Box::new` / `Box::leak` to allocate the box and `Box::from_raw` to free it.
//!
//! # Only one thread
//!
//! The counts are plain `Cell`s: two threads cloning at once could both read 1 and both write 2,
//! losing a count, and the value would be dropped while still in use. So `Rc` and `Weak` are
//! neither `Send` nor `Sync`. Nothing needs to be written for that: they hold a `NonNull`, which
//! is neither, and the compiler refuses to move them to another thread. `std::sync::Arc` is the
//! same design with atomic counts, and pays for them on every clone.
//!
//! ```compile_fail,E0277
//! fn needs_send<T: Send>(_: T) {}
//! needs_send(refcount::Rc::new(1)); // error: `NonNull<..>` cannot be sent between threads safely
//! ```
//!
//! # Example
//!
//! ```
//! use refcount::{Rc, Weak};
//!
//! let a = Rc::new(String::from("spam"));
//! let b = Rc::clone(&a);
//! let w: Weak<String> = Rc::downgrade(&a);
//! assert_eq!((Rc::strong_count(&a), Rc::weak_count(&a)), (2, 1));
//! assert!(Rc::ptr_eq(&a, &b));
//!
//! drop(a);
//! assert_eq!(*w.upgrade().unwrap(), "spam"); // `b` still holds the value
//! drop(b); // strong reaches 0: the String is dropped here; `w` keeps the box
//! assert!(w.upgrade().is_none());
//! ```

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;

// ANCHOR: rc_box
/// The heap allocation shared by every [`Rc`] and [`Weak`] to one value: the two counts, then the
/// value. `repr(C)` keeps the fields in this order, as the module's diagram draws them.
#[repr(C)]
struct RcBox<T> {
    counts: Counts,
    /// Dropped by hand when `strong` reaches 0 (or moved out by [`Rc::try_unwrap`]); freeing the
    /// box afterwards leaves it alone.
    value: ManuallyDrop<T>,
}

/// The two counts at the head of every box.
struct Counts {
    /// How many [`Rc`]s point to the box. The value is alive exactly while this is above 0.
    strong: Cell<usize>,
    /// How many [`Weak`]s point to the box, as [`Rc::weak_count`] reports it. The box is allocated
    /// exactly while `strong + weak` is above 0.
    weak: Cell<usize>,
}
// ANCHOR_END: rc_box

impl<T> RcBox<T> {
    /// Frees the box at `ptr` without dropping its value.
    ///
    /// # Safety
    ///
    /// `ptr` was allocated by [`Rc::new`] and has not been freed yet; both counts are 0, so no
    /// `Rc` or `Weak` will use it again; the value has already been dropped or moved out; and no
    /// reference into the box is used after this call.
    unsafe fn free(ptr: NonNull<Self>) {
        // SAFETY: the caller promises that `ptr` is the live allocation made by `Box` in
        // `Rc::new` and that nobody uses it again, so the `Box` may take it back once.
        let boxed = unsafe { Box::from_raw(ptr.as_ptr()) };
        // Dropping the `Box` frees the memory. Its value is a `ManuallyDrop`, so the value, which
        // is already gone, is not dropped a second time.
        drop(boxed);
    }
}

// ANCHOR: rc_struct
/// A strong pointer: while any `Rc` to a box exists, the value in it stays alive.
///
/// Neither `Send` nor `Sync` (the `NonNull` sees to it): the counts are not atomic.
pub struct Rc<T> {
    ptr: NonNull<RcBox<T>>,
    /// Tells the compiler that an `Rc<T>` may drop a `T` (for the drop check), which a bare
    /// `NonNull` does not say.
    _owns: PhantomData<RcBox<T>>,
}

/// A weak pointer: keeps the box allocated but not the value; [`Weak::upgrade`] tells whether the
/// value is still there.
///
/// A `Weak` made by [`Weak::new`] has no box at all: its pointer is `None`.
pub struct Weak<T> {
    ptr: Option<NonNull<RcBox<T>>>,
}
// ANCHOR_END: rc_struct

impl<T> Rc<T> {
    /// The counts in this `Rc`'s box.
    ///
    /// This borrows the `counts` field only, never the whole box: the value next to it may be
    /// mutably borrowed ([`Rc::get_mut`]) or dropped, and a `&RcBox<T>` would claim it as well.
    fn counts(&self) -> &Counts {
        // SAFETY: while this `Rc` exists the strong count is at least 1, so the box is still
        // allocated (it lives while strong + weak > 0). The counts are `Cell`s, so shared
        // references to them may coexist with any other use of the box.
        unsafe { &(*self.ptr.as_ptr()).counts }
    }

    // ANCHOR: new
    /// Puts `value` in a new box, with a strong count of 1 (this `Rc`) and a weak count of 0.
    pub fn new(value: T) -> Rc<T> {
        // BEGIN SOLUTION: afterwards `value` lives in a heap allocation of its own (the box, laid out as `RcBox<T>` for any `T`), which outlives this call, with strong 1 and weak 0; the `Rc` returned is the only pointer to it
        let boxed = Box::new(RcBox {
            counts: Counts {
                strong: Cell::new(1),
                weak: Cell::new(0),
            },
            value: ManuallyDrop::new(value),
        });
        // `Box::leak` hands the allocation over without freeing it, as `Box::into_raw` does, but
        // as a reference, so turning it into a `NonNull` needs no `unsafe`.
        Rc {
            ptr: NonNull::from(Box::leak(boxed)),
            _owns: PhantomData,
        }
        // END SOLUTION
    }
    // ANCHOR_END: new

    // ANCHOR: counts_readers
    /// How many `Rc`s point to this value, `this` included. (Given: it reads the box's count.)
    pub fn strong_count(this: &Rc<T>) -> usize {
        this.counts().strong.get()
    }

    /// How many [`Weak`]s point to this value. (Given: it reads the box's count.)
    pub fn weak_count(this: &Rc<T>) -> usize {
        this.counts().weak.get()
    }
    // ANCHOR_END: counts_readers

    // ANCHOR: downgrade
    /// Makes a [`Weak`] to the same box: it keeps the box allocated, but not the value.
    pub fn downgrade(this: &Rc<T>) -> Weak<T> {
        // BEGIN SOLUTION: afterwards one more `Weak` points to `this`'s box and the weak count says so; the strong count and the value are untouched
        let weak = &this.counts().weak;
        weak.set(weak.get() + 1);
        Weak {
            ptr: Some(this.ptr),
        }
        // END SOLUTION
    }
    // ANCHOR_END: downgrade

    // ANCHOR: get_mut
    /// A mutable reference to the value, if nothing but `this` can reach the value for as long as
    /// the reference lives (two ways of reading it while it changes would be undefined
    /// behaviour). Otherwise `None`.
    pub fn get_mut(this: &mut Rc<T>) -> Option<&mut T> {
        // BEGIN SOLUTION: `Some(&mut value)` exactly when nothing but `this` could reach the value while the borrow lives; otherwise `None`. No count changes either way
        let counts = this.counts();
        if counts.strong.get() != 1 || counts.weak.get() != 0 {
            return None;
        }
        // SAFETY: strong is 1 (so the value is alive) and weak is 0, so no other `Rc` or `Weak`
        // can reach the value; `this` is borrowed mutably for as long as the result lives, so
        // nothing else can reach it through `this` either.
        Some(unsafe { &mut (*this.ptr.as_ptr()).value })
        // END SOLUTION
    }
    // ANCHOR_END: get_mut

    // ANCHOR: try_unwrap
    /// Moves the value out if `this` is the only `Rc` (any [`Weak`]s will then fail to upgrade);
    /// otherwise gives `this` back unchanged.
    pub fn try_unwrap(this: Rc<T>) -> Result<T, Rc<T>> {
        // BEGIN SOLUTION: when `this` is the only `Rc`: the value leaves the box for the caller without being dropped, no `Weak` can upgrade from now on, and the box is freed once no pointer of either kind is left (now, or by the last `Weak`). Otherwise `Err(this)`, every count unchanged
        if Rc::strong_count(&this) != 1 {
            return Err(this);
        }
        // `this` gives up its strong count by hand below, so its `Drop` must not run.
        let this = ManuallyDrop::new(this);
        let counts = this.counts();
        counts.strong.set(0);
        // SAFETY: strong was 1 and is now 0, so no `Rc` can reach the value again and no `Weak`
        // will upgrade; the value is alive (never dropped) and is taken out this once.
        let value = unsafe { ManuallyDrop::take(&mut (*this.ptr.as_ptr()).value) };
        if counts.weak.get() == 0 {
            // SAFETY: strong and weak are both 0 and the value has been moved out, so this was
            // the last pointer to the box; `counts` is not used again.
            unsafe { RcBox::free(this.ptr) };
        }
        Ok(value)
        // END SOLUTION
    }
    // ANCHOR_END: try_unwrap

    /// Whether `a` and `b` point to the same box (not merely to equal values).
    pub fn ptr_eq(a: &Rc<T>, b: &Rc<T>) -> bool {
        // BEGIN SOLUTION: true exactly when `a` and `b` point to the same box (identity, as Python's `is`; `T` need not be comparable)
        a.ptr == b.ptr
        // END SOLUTION
    }
}

impl<T> Clone for Rc<T> {
    // ANCHOR: clone
    /// Another `Rc` to the same value: one more strong count, no new allocation.
    fn clone(&self) -> Rc<T> {
        // BEGIN SOLUTION: afterwards the box has one more strong pointer, the one returned, and its count says so; the value is neither copied nor moved. A count that would overflow aborts the process (never wraps, never panics), as `std` does
        let strong = &self.counts().strong;
        // A count can only overflow if `Rc`s are leaked with `mem::forget` in a loop. Wrapping to
        // 0 would let the value be dropped while `Rc`s still point to it, so stop instead, as
        // `std::rc::Rc` does.
        let Some(more) = strong.get().checked_add(1) else {
            std::process::abort()
        };
        strong.set(more);
        Rc {
            ptr: self.ptr,
            _owns: PhantomData,
        }
        // END SOLUTION
    }
    // ANCHOR_END: clone
}

// ANCHOR: drop
impl<T> Drop for Rc<T> {
    /// Gives up this strong count. The last `Rc` drops the value; the box is freed too unless a
    /// [`Weak`] still holds it.
    ///
    /// Dropping the value runs the value's own `Drop`, which is code you do not control: it may
    /// reach this very box, for example by dropping a `Weak` to it that the value held, even the
    /// last one. The box must stay allocated for as long as this function still uses it.
    fn drop(&mut self) {
        // BEGIN SOLUTION: give up this strong count. The two invariants hold afterwards: the value is alive exactly while strong > 0 (the `Rc` that takes strong to 0 drops it, exactly once) and the box is allocated exactly while strong + weak > 0. While the value's own `Drop` runs, strong already reads 0, and the box outlives this function's last use of it
        let counts = self.counts();
        let strong = counts.strong.get() - 1;
        counts.strong.set(strong);
        if strong > 0 {
            return;
        }
        // The value dies now. Hold the box while its `Drop` runs, which may drop `Weak`s to it.
        counts.weak.set(counts.weak.get() + 1);
        // SAFETY: strong has just reached 0, so no `Rc` can reach the value any more (and a
        // `Weak` will not upgrade); this is the one time it is dropped. The box stays allocated
        // because of the weak count held above.
        unsafe { ManuallyDrop::drop(&mut (*self.ptr.as_ptr()).value) };
        let weak = counts.weak.get() - 1;
        counts.weak.set(weak);
        if weak == 0 {
            // SAFETY: strong and weak are both 0 and the value has been dropped, so this was the
            // last pointer to the box; `counts` is not used again.
            unsafe { RcBox::free(self.ptr) };
        }
        // END SOLUTION
    }
}
// ANCHOR_END: drop

impl<T> Deref for Rc<T> {
    type Target = T;

    // ANCHOR: deref
    /// The value, borrowed for as long as this `Rc` is.
    fn deref(&self) -> &T {
        // BEGIN SOLUTION: a shared reference to the value in the box, for as long as `self` is borrowed
        // SAFETY: while this `Rc` exists strong is at least 1, so the value is alive; the only
        // mutable access, `get_mut`, needs `&mut` to the sole `Rc`, so it cannot overlap this
        // borrow of `self`.
        unsafe { &(*self.ptr.as_ptr()).value }
        // END SOLUTION
    }
    // ANCHOR_END: deref
}

impl<T> Weak<T> {
    /// The counts in this `Weak`'s box, or `None` for a `Weak` made by [`Weak::new`].
    ///
    /// This borrows the `counts` field only: the value next to it may already be dropped, or be
    /// in the middle of its `Drop` right now (if the value owns this `Weak`).
    fn counts(&self) -> Option<&Counts> {
        let ptr = self.ptr?;
        // SAFETY: this `Weak` is counted in `weak`, so weak is at least 1 and the box is still
        // allocated (it lives while strong + weak > 0), whatever happened to the value. The
        // counts are `Cell`s, so shared references to them may coexist with any other use.
        Some(unsafe { &(*ptr.as_ptr()).counts })
    }

    /// A `Weak` that points to no box: it never upgrades, and counts as nothing.
    pub fn new() -> Weak<T> {
        // BEGIN SOLUTION: a `Weak` with no box behind it: it never upgrades and counts nowhere
        Weak { ptr: None }
        // END SOLUTION
    }

    // ANCHOR: upgrade
    /// A new [`Rc`] to the value if it is still alive (strong > 0); `None` once the last `Rc` is
    /// gone, or for a `Weak` made by [`Weak::new`].
    pub fn upgrade(&self) -> Option<Rc<T>> {
        // BEGIN SOLUTION: while the value is alive, one more strong pointer to it (counted); once it is gone, or without a box, `None` and no count changes: a dropped value never comes back
        let ptr = self.ptr?;
        let counts = self.counts()?;
        let strong = counts.strong.get();
        if strong == 0 {
            return None;
        }
        counts.strong.set(strong + 1);
        Some(Rc {
            ptr,
            _owns: PhantomData,
        })
        // END SOLUTION
    }
    // ANCHOR_END: upgrade

    /// How many [`Rc`]s point to this `Weak`'s value: 0 once it is dropped, or if there is no box.
    pub fn strong_count(&self) -> usize {
        // BEGIN SOLUTION: the box's strong count, read through this `Weak`; 0 when there is no box
        self.counts().map_or(0, |counts| counts.strong.get())
        // END SOLUTION
    }
}

impl<T> Default for Weak<T> {
    /// The same as [`Weak::new`].
    fn default() -> Weak<T> {
        Weak::new()
    }
}

impl<T> Clone for Weak<T> {
    /// Another `Weak` to the same box: one more weak count.
    fn clone(&self) -> Weak<T> {
        // BEGIN SOLUTION: afterwards one more `Weak` points to the same box (or to none, like `self`) and the weak count says so
        if let Some(counts) = self.counts() {
            counts.weak.set(counts.weak.get() + 1);
        }
        Weak { ptr: self.ptr }
        // END SOLUTION
    }
}

impl<T> Drop for Weak<T> {
    /// Gives up this weak count, and frees the box if it was the last pointer of either kind.
    fn drop(&mut self) {
        // BEGIN SOLUTION: give up this weak count (a `Weak` with no box gives up nothing); the box is freed exactly when no pointer of either kind is left to it
        let (Some(ptr), Some(counts)) = (self.ptr, self.counts()) else {
            return;
        };
        let weak = counts.weak.get() - 1;
        counts.weak.set(weak);
        if weak == 0 && counts.strong.get() == 0 {
            // SAFETY: strong and weak are both 0, so this was the last pointer to the box, and
            // the value was dropped (or moved out) when strong reached 0; `counts` is not used
            // again.
            unsafe { RcBox::free(ptr) };
        }
        // END SOLUTION
    }
}

impl<T: fmt::Debug> fmt::Debug for Rc<T> {
    /// Formats the value, as if the `Rc` were not there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> fmt::Debug for Weak<T> {
    /// Prints `(Weak)`: the value may be gone, so it is not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(Weak)")
    }
}
