//! Graded tests for lab 01 part (a): `Rc<T>` and `Weak<T>` from raw parts.
//!
//! The tests come in the order of the chapter's tasks: the box and `new`, then `clone` and `Drop`
//! (when the value dies), then `Weak` (when the box is freed), then `get_mut` and `try_unwrap`,
//! then `ptr_eq`, and last a seeded random-program test that runs the same operations on your `Rc`
//! and on `std::rc::Rc` and compares them after every step. Drops are witnessed by a
//! [`DropProbe`]: each value must be dropped exactly once, never twice, never zero times.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::rc::{Rc as StdRc, Weak as StdWeak};

use pretty_assertions::assert_eq;
use refcount::{Rc, Weak};
use testkit::{DropProbe, Token, XorShift64, check_programs};

/// The two counts of `rc`'s box, `(strong, weak)`: the pair most tests check.
fn counts<T>(rc: &Rc<T>) -> (usize, usize) {
    (Rc::strong_count(rc), Rc::weak_count(rc))
}

/// The system allocator, counting the heap blocks each thread has allocated and not yet freed,
/// so that a test can see a box that was never freed (dropping the value is not enough: the box
/// must go too). Every test runs on its own thread, so each test has its own count.
struct CountingAllocator;

thread_local! {
    static LIVE_BLOCKS: Cell<isize> = const { Cell::new(0) };
}

fn count_blocks(change: isize) {
    // `try_with` because the allocator also serves threads whose locals are being torn down.
    let _ = LIVE_BLOCKS.try_with(|live| live.set(live.get() + change));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the `GlobalAlloc`
// contract; the counting on the side never touches the memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is `System`'s too.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            count_blocks(1);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract, which is `System`'s too.
        unsafe { System.dealloc(block, layout) };
        count_blocks(-1);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which is `System`'s too.
        // A block that moves is still one block, so the count does not change.
        unsafe { System.realloc(block, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How many heap blocks this thread has allocated and not freed (since it started).
fn live_blocks() -> isize {
    LIVE_BLOCKS.with(Cell::get)
}

/// Runs `test`, then checks that every heap block it allocated has been freed: each box, once
/// no `Rc` and no `Weak` points to it any more.
fn frees_every_box(test: impl FnOnce()) {
    let before = live_blocks();
    test();
    let leaked = live_blocks() - before;
    assert_eq!(
        leaked, 0,
        "heap blocks allocated by this test and never freed: a box must be freed when its last \
         Rc or Weak goes"
    );
}

// The box and `new` (sections `rc-box`, `rc-new`).

#[test]
fn new_counts_one_strong_and_no_weak() {
    let a = Rc::new(42u64);
    assert_eq!(
        counts(&a),
        (1, 0),
        "a new Rc is the only strong pointer, with no Weak"
    );
    let b = Rc::new(String::from("spam"));
    assert_eq!(
        counts(&b),
        (1, 0),
        "each Rc::new makes its own box with its own counts"
    );
    assert_eq!(
        counts(&a),
        (1, 0),
        "making a second box must not touch the first one's counts"
    );
}

#[test]
fn new_then_deref_reads_the_value() {
    let probe = DropProbe::new();
    let token = Rc::new(probe.token(7));
    assert_eq!(
        token.id, 7,
        "`token.id` goes through Deref to the Token in the box"
    );
    let number = Rc::new(42u64);
    assert_eq!(*number, 42);
    let text = Rc::new(String::from("spam"));
    assert_eq!(
        text.len(),
        4,
        "methods of the value are reached through Deref"
    );
    assert_eq!(text.as_str(), "spam");
    assert_eq!(probe.drops(), 0, "reading the value must not drop it");
}

/// A value that needs more alignment than the counts in front of it.
#[derive(Debug, PartialEq)]
#[repr(align(64))]
struct Aligned(u8);

#[test]
fn values_of_any_size_are_stored_intact() {
    let unit = Rc::new(());
    assert_eq!(*unit, (), "a zero-sized value still gets a box with counts");
    assert_eq!(counts(&unit), (1, 0));
    let byte = Rc::new(0xA5u8);
    assert_eq!(*byte, 0xA5);
    let big = Rc::new([7u64; 512]);
    assert!(
        big.iter().all(|&x| x == 7),
        "a 4 KiB array is copied into the box whole"
    );
    let aligned = Rc::new(Aligned(3));
    assert_eq!(*aligned, Aligned(3));
    let address = &*aligned as *const Aligned as usize;
    assert_eq!(
        address % 64,
        0,
        "the value inside the box keeps its alignment (64 here)"
    );
    let list = Rc::new(vec![1u32, 2, 3]);
    assert_eq!(list.as_slice(), &[1, 2, 3]);
}

// `clone` and `Drop`: when the value dies (section `rc-clone-drop`).

#[test]
fn counts_follow_clones_and_drops() {
    let a = Rc::new(5u32);
    let b = Rc::clone(&a);
    assert_eq!(counts(&a), (2, 0), "clone adds one to the strong count");
    assert_eq!(
        counts(&b),
        (2, 0),
        "a clone shares the box, so it sees the same counts"
    );
    let c = b.clone();
    assert_eq!(counts(&a), (3, 0));
    drop(b);
    assert_eq!(
        counts(&a),
        (2, 0),
        "dropping an Rc takes one from the strong count"
    );
    assert_eq!(counts(&c), (2, 0));
    drop(a);
    assert_eq!(counts(&c), (1, 0));
    assert_eq!(*c, 5, "the value survives while one Rc is left");
}

#[test]
fn clones_reach_the_same_value() {
    let probe = DropProbe::new();
    let a = Rc::new(probe.token(1));
    let b = a.clone();
    assert!(
        std::ptr::eq(&*a, &*b),
        "a clone must point to the same value, not to a copy of it"
    );
    let shared = Rc::new(RefCell::new(Vec::new()));
    let other = shared.clone();
    shared.borrow_mut().push(1);
    other.borrow_mut().push(2);
    assert_eq!(
        *shared.borrow(),
        vec![1, 2],
        "a change through one clone is seen by all"
    );
    assert_eq!(
        probe.drops(),
        0,
        "cloning an Rc never drops (or copies) the value"
    );
}

#[test]
fn value_dropped_exactly_once_when_last_strong_goes() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(1));
        let clones: Vec<Rc<Token>> = (0..5).map(|_| Rc::clone(&a)).collect();
        drop(a);
        assert_eq!(
            probe.drops(),
            0,
            "5 clones are left, so the value must still be alive"
        );
        let last = clones.len() - 1;
        for (i, clone) in clones.into_iter().enumerate() {
            assert_eq!(clone.id, 1);
            drop(clone);
            let expected = if i == last { 1 } else { 0 };
            assert_eq!(
                probe.drops(),
                expected,
                "after dropping clone {i} of 5: the value dies with the last Rc, exactly once"
            );
        }
    });
}

#[test]
fn original_can_die_before_its_clones() {
    let probe = DropProbe::new();
    let original = Rc::new(probe.token(9));
    let clone = original.clone();
    drop(original);
    assert_eq!(probe.drops(), 0, "the clone still holds the value");
    assert_eq!(
        clone.id, 9,
        "the clone reads the value after the original is gone"
    );
    assert_eq!(counts(&clone), (1, 0));
    drop(clone);
    assert_eq!(
        probe.drops(),
        1,
        "no Rc is left, so the value is dropped, once"
    );
}

#[test]
fn dropping_an_rc_drops_what_its_value_owns() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let leaf = Rc::new(probe.token(1));
        let parent = Rc::new(vec![leaf.clone(), leaf.clone(), Rc::new(probe.token(2))]);
        assert_eq!(
            counts(&leaf),
            (3, 0),
            "the vector in `parent` holds two strong pointers"
        );
        drop(parent);
        assert_eq!(
            probe.drops(),
            1,
            "dropping the vector drops its three Rcs: token 2 dies, token 1 is still held by `leaf`"
        );
        assert_eq!(
            counts(&leaf),
            (1, 0),
            "the two Rcs in the vector gave their counts back"
        );
        drop(leaf);
        assert_eq!(probe.drops(), 2);
    });
}

// `Weak`: downgrade, upgrade, and when the box is freed (section `weak`).

#[test]
fn downgrade_counts_weaks_not_strongs() {
    let a = Rc::new(3u8);
    let w1 = Rc::downgrade(&a);
    assert_eq!(
        counts(&a),
        (1, 1),
        "downgrade adds one to the weak count only"
    );
    let w2 = Rc::downgrade(&a);
    let b = a.clone();
    assert_eq!(counts(&b), (2, 2));
    drop(w1);
    assert_eq!(
        counts(&a),
        (2, 1),
        "dropping a Weak takes one from the weak count"
    );
    drop(w2);
    assert_eq!(counts(&a), (2, 0));
    assert_eq!(*b, 3);
}

#[test]
fn upgrade_while_alive_gives_another_strong() {
    let probe = DropProbe::new();
    let a = Rc::new(probe.token(3));
    let w = Rc::downgrade(&a);
    let b = w
        .upgrade()
        .expect("the value is alive, so upgrade must give an Rc");
    assert!(
        std::ptr::eq(&*a, &*b),
        "the upgraded Rc points to the same value"
    );
    assert_eq!(
        counts(&a),
        (2, 1),
        "upgrade adds a strong count and keeps the Weak"
    );
    assert_eq!(w.strong_count(), 2, "Weak::strong_count reads the same box");
    drop(a);
    assert_eq!(b.id, 3, "the upgraded Rc keeps the value alive on its own");
    assert_eq!(probe.drops(), 0);
    drop(b);
    assert_eq!(probe.drops(), 1);
}

#[test]
fn upgrade_after_last_strong_is_none() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(4));
        let b = a.clone();
        let w = Rc::downgrade(&a);
        drop(a);
        let revived = w.upgrade();
        assert!(
            revived.is_some(),
            "`b` is still alive, so upgrade must succeed"
        );
        drop(revived);
        drop(b);
        assert_eq!(
            probe.drops(),
            1,
            "the last Rc is gone: the value is dropped"
        );
        assert!(
            w.upgrade().is_none(),
            "a dropped value cannot be brought back"
        );
        assert!(w.upgrade().is_none(), "asking twice changes nothing");
        assert_eq!(w.strong_count(), 0);
        assert_eq!(
            probe.drops(),
            1,
            "a failed upgrade must not drop the value again"
        );
    });
}

#[test]
fn weak_keeps_box_but_not_value() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(5));
        let w1 = Rc::downgrade(&a);
        let w2 = w1.clone();
        drop(a);
        assert_eq!(
            probe.drops(),
            1,
            "the value dies with the last Rc, even while Weaks remain"
        );
        // These read the counts in the box: it must still be allocated.
        assert_eq!(
            w1.strong_count(),
            0,
            "the box outlives the value while a Weak holds it"
        );
        drop(w1);
        assert_eq!(
            w2.strong_count(),
            0,
            "one Weak gone, the other still holds the box"
        );
        assert!(w2.upgrade().is_none());
        drop(w2);
        assert_eq!(
            probe.drops(),
            1,
            "freeing the box must not drop the value a second time"
        );
    });
}

#[test]
fn weak_new_never_upgrades() {
    let w: Weak<Token> = Weak::new();
    assert!(
        w.upgrade().is_none(),
        "Weak::new has no box, so no value to upgrade to"
    );
    assert_eq!(w.strong_count(), 0);
    let w2 = w.clone();
    assert!(
        w2.upgrade().is_none(),
        "a clone of an empty Weak is empty too"
    );
    drop(w);
    drop(w2);
    let w3: Weak<String> = Weak::default();
    assert!(w3.upgrade().is_none());
}

#[test]
fn weak_clones_and_drops_move_the_weak_count() {
    let a = Rc::new(6u16);
    let w = Rc::downgrade(&a);
    let mut clones: Vec<Weak<u16>> = (0..4).map(|_| w.clone()).collect();
    assert_eq!(
        counts(&a),
        (1, 5),
        "Weak::clone adds one to the weak count, not the strong"
    );
    clones.truncate(2);
    assert_eq!(counts(&a), (1, 3));
    drop(clones);
    drop(w);
    assert_eq!(counts(&a), (1, 0));
    assert_eq!(*a, 6);
}

/// A value that holds a `Weak` to its own box. When it is dropped it records whether that `Weak`
/// could still upgrade; the value is dropped because the last `Rc` is gone, so it must not.
struct SelfAware {
    me: RefCell<Weak<SelfAware>>,
    upgraded_while_dying: StdRc<Cell<Option<bool>>>,
    _token: Token,
}

impl Drop for SelfAware {
    fn drop(&mut self) {
        let upgraded = self.me.borrow().upgrade();
        self.upgraded_while_dying.set(Some(upgraded.is_some()));
    }
}

#[test]
fn value_holding_a_weak_to_itself_drops_once() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        for outside_weak in [false, true] {
            let seen = StdRc::new(Cell::new(None));
            let a = Rc::new(SelfAware {
                me: RefCell::new(Weak::new()),
                upgraded_while_dying: seen.clone(),
                _token: probe.token(1),
            });
            *a.me.borrow_mut() = Rc::downgrade(&a);
            let outside = outside_weak.then(|| Rc::downgrade(&a));
            assert_eq!(counts(&a), (1, 1 + usize::from(outside_weak)));
            // Dropping the value drops its own Weak: the box must survive until `Drop for Rc` is
            // done with it (run under Miri to see a use after free if it does not).
            drop(a);
            assert_eq!(
                seen.get(),
                Some(false),
                "while the value drops, strong must already be 0, so its own Weak cannot upgrade"
            );
            if let Some(outside) = outside {
                assert!(outside.upgrade().is_none());
                assert_eq!(outside.strong_count(), 0);
            }
        }
        assert_eq!(
            probe.drops(),
            2,
            "each of the two values was dropped exactly once"
        );
    });
}

// `get_mut` and `try_unwrap` (section `get-mut`).

#[test]
fn get_mut_allowed_when_unique() {
    let probe = DropProbe::new();
    let mut a = Rc::new(probe.token(1));
    Rc::get_mut(&mut a)
        .expect("the only Rc, no Weak: get_mut must succeed")
        .id = 2;
    assert_eq!(a.id, 2, "the change is made in the box");
    let clone = a.clone();
    drop(clone);
    let weak = Rc::downgrade(&a);
    drop(weak);
    let slot = Rc::get_mut(&mut a).expect("the clone and the Weak are gone: unique again");
    *slot = probe.token(3);
    assert_eq!(
        probe.drops(),
        1,
        "assigning through get_mut drops the old value"
    );
    assert_eq!(a.id, 3);
    assert_eq!(counts(&a), (1, 0));
}

#[test]
fn get_mut_refused_while_shared() {
    let mut a = Rc::new(10u32);
    let mut b = a.clone();
    assert!(
        Rc::get_mut(&mut a).is_none(),
        "another Rc could see the change"
    );
    assert!(
        Rc::get_mut(&mut b).is_none(),
        "the same from the other side"
    );
    drop(b);
    *Rc::get_mut(&mut a).expect("the clone is gone, so get_mut must succeed now") += 1;
    assert_eq!(*a, 11);
}

#[test]
fn get_mut_refused_while_a_weak_exists() {
    let mut a = Rc::new(10u32);
    let w = Rc::downgrade(&a);
    assert!(
        Rc::get_mut(&mut a).is_none(),
        "a Weak could upgrade and read the value while it is being changed"
    );
    assert_eq!(counts(&a), (1, 1), "a refused get_mut changes no count");
    drop(w);
    *Rc::get_mut(&mut a).expect("the Weak is gone, so get_mut must succeed now") += 1;
    assert_eq!(*a, 11);
}

#[test]
fn try_unwrap_returns_the_value_when_unique() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(5));
        let clone = a.clone();
        drop(clone);
        let token = Rc::try_unwrap(a).expect("the only Rc: try_unwrap must give the value");
        assert_eq!(token.id, 5);
        assert_eq!(
            probe.drops(),
            0,
            "try_unwrap moves the value out; it must not drop it"
        );
        drop(token);
        assert_eq!(
            probe.drops(),
            1,
            "the value is dropped once, by its new owner"
        );
    });
}

#[test]
fn try_unwrap_gives_the_rc_back_when_shared() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(6));
        let b = a.clone();
        let a = Rc::try_unwrap(a).expect_err("another Rc exists: try_unwrap must give `a` back");
        assert!(
            std::ptr::eq(&*a, &*b),
            "the Rc given back points to the same value"
        );
        assert_eq!(counts(&a), (2, 0), "a refused try_unwrap changes no count");
        assert_eq!(a.id, 6);
        assert_eq!(probe.drops(), 0);
        drop(b);
        let token = Rc::try_unwrap(a).expect("`b` is gone, so `a` is unique now");
        assert_eq!(token.id, 6);
        drop(token);
        assert_eq!(probe.drops(), 1);
    });
}

#[test]
fn try_unwrap_leaves_weaks_that_no_longer_upgrade() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(7));
        let w = Rc::downgrade(&a);
        let token = Rc::try_unwrap(a).expect("a Weak does not stop try_unwrap (std agrees)");
        assert_eq!(token.id, 7);
        assert!(
            w.upgrade().is_none(),
            "the value has left the box: the Weak cannot upgrade"
        );
        assert_eq!(w.strong_count(), 0);
        drop(w);
        assert_eq!(
            probe.drops(),
            0,
            "the last Weak frees the box, but the value moved out and must not be dropped"
        );
        drop(token);
        assert_eq!(probe.drops(), 1);
    });
}

// `ptr_eq` (section `ptr-eq`).

#[test]
fn clone_shares_one_allocation() {
    let a = Rc::new(1u8);
    let b = a.clone();
    assert!(Rc::ptr_eq(&a, &b), "a clone points to the same box");
    let c = Rc::downgrade(&b).upgrade().expect("alive");
    assert!(
        Rc::ptr_eq(&a, &c),
        "an upgraded Weak points to the same box"
    );
    let other = Rc::new(1u8);
    assert!(!Rc::ptr_eq(&a, &other), "a second Rc::new is a second box");
}

#[test]
fn equal_values_in_separate_boxes_are_not_ptr_eq() {
    let a = Rc::new(String::from("spam"));
    let b = Rc::new(String::from("spam"));
    assert_eq!(*a, *b);
    assert!(!Rc::ptr_eq(&a, &b), "equal values, two boxes: not ptr_eq");
    assert!(Rc::ptr_eq(&a, &a), "an Rc is ptr_eq to itself");
    assert!(Rc::ptr_eq(&b, &b.clone()));
}

// Random programs checked against `std::rc::Rc` (section `rc-random`).

/// One step of a random program. Indices pick a slot modulo the number of live pointers of that
/// kind (an operation on an empty list does nothing), so any part of a program is a program.
#[derive(Clone, Debug)]
enum Op {
    /// `Rc::new` of a token with this id.
    New(u32),
    /// Clone the strong pointer in this slot.
    Clone(usize),
    /// Drop the strong pointer in this slot.
    Drop(usize),
    /// `Rc::downgrade` the strong pointer in this slot.
    Downgrade(usize),
    /// `upgrade` the weak pointer in this slot, keeping the result if there is one.
    Upgrade(usize),
    /// Clone the weak pointer in this slot.
    CloneWeak(usize),
    /// Drop the weak pointer in this slot.
    DropWeak(usize),
    /// `Weak::new()`.
    NewWeak,
    /// `Rc::get_mut` on the strong pointer in this slot, writing this id if it is allowed.
    GetMut(usize, u32),
    /// `Rc::try_unwrap` the strong pointer in this slot (the value is then dropped).
    TryUnwrap(usize),
}

fn random_program(rng: &mut XorShift64) -> Vec<Op> {
    let len = if cfg!(miri) {
        40 + rng.below(21)
    } else {
        100 + rng.below(101)
    };
    (0..len)
        .map(|_| {
            let slot = rng.below(16);
            let id = rng.below(1000) as u32;
            match rng.below(100) {
                0..12 => Op::New(id),
                12..27 => Op::Clone(slot),
                27..41 => Op::Drop(slot),
                41..53 => Op::Downgrade(slot),
                53..63 => Op::Upgrade(slot),
                63..68 => Op::CloneWeak(slot),
                68..78 => Op::DropWeak(slot),
                78..80 => Op::NewWeak,
                80..90 => Op::GetMut(slot, id),
                _ => Op::TryUnwrap(slot),
            }
        })
        .collect()
}

/// What a program can observe after a step, read the same way from both implementations.
#[derive(Debug, PartialEq)]
struct Observed {
    /// One entry per live `Rc`, in slot order.
    rcs: Vec<SeenThroughRc>,
    /// One entry per live `Weak`, in slot order: the strong count seen through it.
    weak_strong_counts: Vec<usize>,
    /// How many values have been dropped so far.
    drops: usize,
}

/// What one `Rc` shows.
#[derive(Debug, PartialEq)]
struct SeenThroughRc {
    strong_count: usize,
    weak_count: usize,
    value_id: u32,
    /// `ptr_eq` with the `Rc` in the slot before it.
    same_box_as_previous: bool,
}

/// The live pointers of a program: each slot holds yours and std's, made by the same operations.
struct Slots {
    strong: Vec<(Rc<Token>, StdRc<Token>)>,
    weak: Vec<(Weak<Token>, StdWeak<Token>)>,
    ours: DropProbe,
    model: DropProbe,
}

impl Slots {
    /// Observes both implementations: `(yours, std's)`.
    fn observe(&self) -> (Observed, Observed) {
        let ours = Observed {
            rcs: (self.strong.iter().enumerate())
                .map(|(i, (rc, _))| SeenThroughRc {
                    strong_count: Rc::strong_count(rc),
                    weak_count: Rc::weak_count(rc),
                    value_id: rc.id,
                    same_box_as_previous: i > 0 && Rc::ptr_eq(&self.strong[i - 1].0, rc),
                })
                .collect(),
            weak_strong_counts: self.weak.iter().map(|(w, _)| w.strong_count()).collect(),
            drops: self.ours.drops(),
        };
        let model = Observed {
            rcs: (self.strong.iter().enumerate())
                .map(|(i, (_, rc))| SeenThroughRc {
                    strong_count: StdRc::strong_count(rc),
                    weak_count: StdRc::weak_count(rc),
                    value_id: rc.id,
                    same_box_as_previous: i > 0 && StdRc::ptr_eq(&self.strong[i - 1].1, rc),
                })
                .collect(),
            weak_strong_counts: self.weak.iter().map(|(_, w)| w.strong_count()).collect(),
            drops: self.model.drops(),
        };
        (ours, model)
    }

    /// Runs one operation on both implementations; `Err` says how their answers differ.
    fn apply(&mut self, op: &Op) -> Result<(), String> {
        let (strongs, weaks) = (self.strong.len().max(1), self.weak.len().max(1));
        let strong = |slot: usize| slot % strongs;
        let weak = |slot: usize| slot % weaks;
        match *op {
            Op::New(id) => self.strong.push((
                Rc::new(self.ours.token(id)),
                StdRc::new(self.model.token(id)),
            )),
            Op::NewWeak => self.weak.push((Weak::new(), StdWeak::new())),
            _ if self.strong.is_empty() && op_uses_strong(op) => {}
            _ if self.weak.is_empty() && !op_uses_strong(op) => {}
            Op::Clone(slot) => {
                let (ours, model) = &self.strong[strong(slot)];
                let pair = (Rc::clone(ours), StdRc::clone(model));
                self.strong.push(pair);
            }
            Op::Drop(slot) => drop(self.strong.remove(strong(slot))),
            Op::Downgrade(slot) => {
                let (ours, model) = &self.strong[strong(slot)];
                let pair = (Rc::downgrade(ours), StdRc::downgrade(model));
                self.weak.push(pair);
            }
            Op::Upgrade(slot) => {
                let (ours, model) = &self.weak[weak(slot)];
                match (ours.upgrade(), model.upgrade()) {
                    (Some(ours), Some(model)) => self.strong.push((ours, model)),
                    (None, None) => {}
                    (ours, _) => return Err(mismatch("upgrade", ours.is_some())),
                }
            }
            Op::CloneWeak(slot) => {
                let (ours, model) = &self.weak[weak(slot)];
                let pair = (ours.clone(), model.clone());
                self.weak.push(pair);
            }
            Op::DropWeak(slot) => drop(self.weak.remove(weak(slot))),
            Op::GetMut(slot, id) => {
                let (ours, model) = &mut self.strong[strong(slot)];
                match (Rc::get_mut(ours), StdRc::get_mut(model)) {
                    (Some(ours), Some(model)) => (ours.id, model.id) = (id, id),
                    (None, None) => {}
                    (ours, _) => return Err(mismatch("get_mut", ours.is_some())),
                }
            }
            Op::TryUnwrap(slot) => {
                let at = strong(slot);
                let (ours, model) = self.strong.remove(at);
                match (Rc::try_unwrap(ours), StdRc::try_unwrap(model)) {
                    (Ok(ours), Ok(model)) if ours.id != model.id => {
                        return Err(format!(
                            "try_unwrap gave the value with id {} instead of {}",
                            ours.id, model.id
                        ));
                    }
                    (Ok(_), Ok(_)) => {}
                    (Err(ours), Err(model)) => self.strong.insert(at, (ours, model)),
                    (ours, _) => return Err(mismatch("try_unwrap", ours.is_ok())),
                }
            }
        }
        Ok(())
    }
}

/// Whether `op` works on a strong slot (else on a weak one). `New` and `NewWeak` need neither.
fn op_uses_strong(op: &Op) -> bool {
    matches!(
        op,
        Op::Clone(_) | Op::Drop(_) | Op::Downgrade(_) | Op::GetMut(..) | Op::TryUnwrap(_)
    )
}

fn mismatch(what: &str, ours_succeeded: bool) -> String {
    let (ours, std) = if ours_succeeded {
        ("succeeded", "refused")
    } else {
        ("refused", "succeeded")
    };
    format!("your {what} {ours} where std::rc::Rc's {std}")
}

/// Runs `program` on your `Rc` and on `std::rc::Rc` side by side, comparing what can be observed
/// after every step, then drops everything and checks that every value was dropped exactly once
/// and every box freed.
fn matches_std(program: &[Op]) -> Result<(), String> {
    let blocks_before = live_blocks();
    let mut slots = Slots {
        strong: Vec::new(),
        weak: Vec::new(),
        ours: DropProbe::new(),
        model: DropProbe::new(),
    };
    let mut made = 0;
    for (step, op) in program.iter().enumerate() {
        made += usize::from(matches!(op, Op::New(_)));
        slots
            .apply(op)
            .map_err(|why| format!("step {step} ({op:?}): {why}"))?;
        let (ours, model) = slots.observe();
        if ours != model {
            return Err(format!(
                "after step {step} ({op:?}) yours differs from std::rc::Rc \
                 (< std::rc::Rc, > yours):\n{}",
                pretty_assertions::Comparison::new(&model, &ours)
            ));
        }
    }
    let (ours, model) = (slots.ours.clone(), slots.model.clone());
    drop(slots);
    let drops = (ours.drops(), model.drops());
    drop((ours, model));
    if drops != (made, made) {
        return Err(format!(
            "after dropping every pointer: {made} values were made, yours dropped {} of them \
             and std::rc::Rc dropped {} (each must be dropped exactly once)",
            drops.0, drops.1
        ));
    }
    let leaked = live_blocks() - blocks_before;
    if leaked != 0 {
        return Err(format!(
            "after dropping every pointer, {leaked} heap blocks were never freed (std::rc::Rc \
             frees all of its own): a box must be freed when its last Rc or Weak goes"
        ));
    }
    Ok(())
}

#[test]
fn random_programs_match_std_rc() {
    let programs = if cfg!(miri) { 4 } else { 200 };
    check_programs(
        "Rc and Weak against std::rc::Rc (a slot number is taken modulo the number of live \
         pointers of its kind)",
        1..=programs,
        random_program,
        matches_std,
    );
}
