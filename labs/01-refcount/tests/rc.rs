//! Graded tests for lab 01 part (a): `Rc<T>` and `Weak<T>` from raw parts.
//!
//! The tests come in the order of the chapter's tasks: the box and `new`, then `clone` and `Drop`
//! (when the value dies), then `Weak` (when the box is freed), then `get_mut` and `try_unwrap`,
//! then `ptr_eq`, and last a seeded random-program test that runs the same operations on your `Rc`
//! and on `std::rc::Rc` and compares them after every step. Drops are witnessed by a
//! [`DropProbe`]: each value must be dropped exactly once, never twice, never zero times.

use std::cell::{Cell, RefCell};
use std::rc::{Rc as StdRc, Weak as StdWeak};

use refcount::{Rc, Weak};
#[cfg(not(miri))]
use testkit::alloc::Guarded;
use testkit::alloc::{Mark, Meaning, checked};
use testkit::{DropProbe, Token, XorShift64, assert_expected, check_programs};

/// The two counts of `rc`'s box, `(strong, weak)`: the pair most tests check.
fn counts<T>(rc: &Rc<T>) -> (usize, usize) {
    (Rc::strong_count(rc), Rc::weak_count(rc))
}

/// Fails unless the box of `rc` (named `name` in the message) has these counts, saying when.
#[track_caller]
fn assert_counts<T>(name: &str, when: &str, expected: (usize, usize), rc: &Rc<T>) {
    assert_expected(
        &format!("the counts (strong, weak) of `{name}`'s box {when}"),
        &expected,
        &counts(rc),
    );
}

/// Fails unless the probe has seen exactly `expected` drops, saying when and why.
#[track_caller]
fn assert_drops(probe: &DropProbe, expected: usize, when: &str) {
    assert_expected(
        &format!("how many values were dropped {when}"),
        &expected,
        &probe.drops(),
    );
}

/// The allocator of these tests: testkit's guarded allocator. Every box gets pages of its own,
/// ending where an inaccessible page begins, and a freed box's pages become inaccessible: code
/// that reads a box after freeing it stops at once, and the test fails with the words below
/// (rc.md#drop-pitfall), not with whatever the freed bytes happened to hold. It also counts the
/// blocks each test's thread holds, to see a box that is never freed. (Under Miri, which checks
/// all of this itself and cannot run page protections, the system allocator.)
#[cfg(not(miri))]
#[global_allocator]
static ALLOCATOR: Guarded = Guarded;

/// What a misuse of memory and a leak mean in these tests, in the book's words.
const BOXES: Meaning = Meaning {
    misuse: "a box was misused: used after it was freed, while an Rc or a Weak still used it, or \
             freed twice (see book/src/01-refcount/rc.md#drop-pitfall); or read or written past \
             its end, as if it were smaller than an RcBox<T> (rc.md#rc-box)",
    leak: Some(
        "a box was never freed: a box must be freed when its last Rc or Weak goes (see \
         book/src/01-refcount/rc.md#rc-clone-drop)",
    ),
};

/// Runs `test`, then checks that every heap block it allocated has been freed (each box, once no
/// `Rc` and no `Weak` points to it any more) and that no box was used after it was freed.
#[track_caller]
fn frees_every_box(test: impl FnOnce()) {
    checked(BOXES, test);
}

/// What a misuse of memory means, for the tests that do not look for leaks: the first ones, which
/// a `Drop` that only gives up the strong count may pass (book: rc.md#rc-box), and those whose
/// leak checks are their own.
const BOXES_IN_USE: Meaning = Meaning {
    misuse: BOXES.misuse,
    leak: None,
};

/// Runs `test` on the guarded allocator's pages: a box used after it was freed, or a write past
/// its end, stops the test with the book's words. Leaks are not looked for.
#[track_caller]
fn watched(test: impl FnOnce()) {
    checked(BOXES_IN_USE, test);
}

// The box and `new` (sections `rc-box`, `rc-new`).

#[test]
fn new_counts_one_strong_and_no_weak() {
    watched(|| {
        let a = Rc::new(42u64);
        assert_counts("a", "after `let a = Rc::new(42)`", (1, 0), &a);
        let b = Rc::new(String::from("spam"));
        assert_counts(
            "b",
            "after `let b = Rc::new(\"spam\")`: each Rc::new makes a box of its own",
            (1, 0),
            &b,
        );
        assert_counts(
            "a",
            "after `b` was made: a second box must not touch the first one's counts",
            (1, 0),
            &a,
        );
    });
}

#[test]
fn new_then_deref_reads_the_value() {
    watched(|| {
        let probe = DropProbe::new();
        let token = Rc::new(probe.token(7));
        assert_expected(
            "`token.id`, read through Deref from `Rc::new(token 7)`",
            &7,
            &token.id,
        );
        let number = Rc::new(42u64);
        assert_expected("`*number` for `Rc::new(42)`", &42, &*number);
        let text = Rc::new(String::from("spam"));
        assert_expected(
            "`text.len()` for `Rc::new(\"spam\")` (a method of the value, reached through Deref)",
            &4,
            &text.len(),
        );
        assert_expected("`text.as_str()`", &"spam", &text.as_str());
        assert_drops(
            &probe,
            0,
            "while `token` is alive (reading a value must not drop it)",
        );
    });
}

/// A value that needs more alignment than the counts in front of it.
#[derive(Debug, PartialEq)]
#[repr(align(64))]
struct Aligned(u8);

#[test]
fn values_of_any_size_are_stored_intact() {
    watched(|| {
        let unit = Rc::new(());
        assert_expected("`*unit` for `Rc::new(())`", &(), &*unit);
        assert_counts(
            "unit",
            "after `Rc::new(())` (a zero-sized value still gets a box with counts)",
            (1, 0),
            &unit,
        );
        let byte = Rc::new(0xA5u8);
        assert_expected("`*byte` for `Rc::new(0xA5u8)`", &0xA5, &*byte);
        let big = Rc::new([7u64; 512]);
        let sevens = big.iter().filter(|&&x| x == 7).count();
        assert_expected(
            "how many of the 512 items of `Rc::new([7u64; 512])` (4 KiB) read 7",
            &512,
            &sevens,
        );
        let aligned = Rc::new(Aligned(3));
        assert_expected("`*aligned`", &Aligned(3), &*aligned);
        let address = &*aligned as *const Aligned as usize;
        assert_expected(
            "the address of the value in `Rc::new(Aligned(3))` modulo 64 (a `#[repr(align(64))]` \
             value must sit at a multiple of 64 inside its box)",
            &0,
            &(address % 64),
        );
        let list = Rc::new(vec![1u32, 2, 3]);
        assert_expected("`list.as_slice()`", &&[1u32, 2, 3][..], &list.as_slice());
    });
}

// `clone` and `Drop`: when the value dies (section `rc-clone-drop`).

#[test]
fn counts_follow_clones_and_drops() {
    watched(|| {
        let a = Rc::new(5u32);
        let b = Rc::clone(&a);
        assert_counts("a", "after `let b = Rc::clone(&a)`", (2, 0), &a);
        assert_counts(
            "b",
            "after `let b = Rc::clone(&a)` (a clone shares the box, so it sees the same counts)",
            (2, 0),
            &b,
        );
        let c = b.clone();
        assert_counts("a", "after `let c = b.clone()`", (3, 0), &a);
        drop(b);
        assert_counts("a", "after `drop(b)`", (2, 0), &a);
        assert_counts("c", "after `drop(b)`", (2, 0), &c);
        drop(a);
        assert_counts("c", "after `drop(a)`", (1, 0), &c);
        assert_expected(
            "`*c` after `drop(a)` (the value lives while one Rc is left)",
            &5,
            &*c,
        );
    });
}

#[test]
fn clones_reach_the_same_value() {
    watched(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(1));
        let b = a.clone();
        assert!(
            std::ptr::eq(&*a, &*b),
            "`&*a` and `&*b` after `let b = a.clone()` should be the same address (a clone points \
             to the same value), but yours are {:p} and {:p}: the clone points to a copy",
            &*a,
            &*b
        );
        let shared = Rc::new(RefCell::new(Vec::new()));
        let other = shared.clone();
        shared.borrow_mut().push(1);
        other.borrow_mut().push(2);
        assert_expected(
            "`shared` after `shared.push(1)` and `other.push(2)` on its clone `other` (a change \
             through one clone is seen by all)",
            &vec![1, 2],
            &*shared.borrow(),
        );
        assert_drops(
            &probe,
            0,
            "after cloning `a` (cloning an Rc never drops or copies the value)",
        );
    });
}

#[test]
fn value_dropped_exactly_once_when_last_strong_goes() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(1));
        let clones: Vec<Rc<Token>> = (0..5).map(|_| Rc::clone(&a)).collect();
        drop(a);
        assert_drops(
            &probe,
            0,
            "after `drop(a)`, with its 5 clones still alive (the value must live on)",
        );
        let last = clones.len() - 1;
        for (i, clone) in clones.into_iter().enumerate() {
            assert_expected(
                &format!("`clone {i}.id` before it is dropped"),
                &1,
                &clone.id,
            );
            drop(clone);
            let expected = if i == last { 1 } else { 0 };
            assert_drops(
                &probe,
                expected,
                &format!(
                    "after dropping clone {i} of 5 (the value dies with the last Rc, exactly once)"
                ),
            );
        }
    });
}

#[test]
fn original_can_die_before_its_clones() {
    watched(|| {
        let probe = DropProbe::new();
        let original = Rc::new(probe.token(9));
        let clone = original.clone();
        drop(original);
        assert_drops(
            &probe,
            0,
            "after `drop(original)`, while `clone` holds the value",
        );
        assert_expected("`clone.id` after `drop(original)`", &9, &clone.id);
        assert_counts("clone", "after `drop(original)`", (1, 0), &clone);
        drop(clone);
        assert_drops(&probe, 1, "after `drop(clone)`, the last Rc");
    });
}

#[test]
fn dropping_an_rc_drops_what_its_value_owns() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let leaf = Rc::new(probe.token(1));
        let parent = Rc::new(vec![leaf.clone(), leaf.clone(), Rc::new(probe.token(2))]);
        assert_counts(
            "leaf",
            "once `parent`'s vector holds two clones of it",
            (3, 0),
            &leaf,
        );
        drop(parent);
        assert_drops(
            &probe,
            1,
            "after `drop(parent)`: the vector's three Rcs are dropped with it, so token 2 dies \
             and token 1 lives on in `leaf`",
        );
        assert_counts(
            "leaf",
            "after `drop(parent)` (the two clones in the vector gave their counts back)",
            (1, 0),
            &leaf,
        );
        drop(leaf);
        assert_drops(&probe, 2, "after `drop(leaf)`");
    });
}

// `Weak`: downgrade, upgrade, and when the box is freed (section `weak`).

#[test]
fn downgrade_counts_weaks_not_strongs() {
    watched(|| {
        let a = Rc::new(3u8);
        let w1 = Rc::downgrade(&a);
        assert_counts("a", "after `let w1 = Rc::downgrade(&a)`", (1, 1), &a);
        let w2 = Rc::downgrade(&a);
        let b = a.clone();
        assert_counts(
            "b",
            "after a second downgrade and `let b = a.clone()`",
            (2, 2),
            &b,
        );
        drop(w1);
        assert_counts("a", "after `drop(w1)`", (2, 1), &a);
        drop(w2);
        assert_counts("a", "after `drop(w2)`", (2, 0), &a);
        assert_expected("`*b`", &3, &*b);
    });
}

#[test]
fn upgrade_while_alive_gives_another_strong() {
    watched(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(3));
        let w = Rc::downgrade(&a);
        let b = w.upgrade();
        assert!(
            b.is_some(),
            "`w.upgrade()` while `a` is alive should give an Rc, but yours gave None"
        );
        let b = b.unwrap();
        assert!(
            std::ptr::eq(&*a, &*b),
            "the upgraded Rc `b` should point to `a`'s value, but it points elsewhere"
        );
        assert_counts(
            "a",
            "after `let b = w.upgrade()` (one more strong, and the Weak stays)",
            (2, 1),
            &a,
        );
        assert_expected(
            "`w.strong_count()` after the upgrade (it reads the same box)",
            &2,
            &w.strong_count(),
        );
        drop(a);
        assert_expected("`b.id` after `drop(a)`", &3, &b.id);
        assert_drops(
            &probe,
            0,
            "after `drop(a)`, while the upgraded `b` holds the value",
        );
        drop(b);
        assert_drops(&probe, 1, "after `drop(b)`, the last Rc");
    });
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
            "`w.upgrade()` after `drop(a)` should give an Rc (`b` still holds the value), but \
             yours gave None"
        );
        drop(revived);
        drop(b);
        assert_drops(&probe, 1, "after `drop(b)`, the last Rc");
        assert!(
            w.upgrade().is_none(),
            "`w.upgrade()` after the last Rc was dropped should be None (a dropped value never \
             comes back), but yours gave an Rc"
        );
        assert!(
            w.upgrade().is_none(),
            "`w.upgrade()` asked a second time should still be None"
        );
        assert_expected(
            "`w.strong_count()` after the last Rc was dropped",
            &0,
            &w.strong_count(),
        );
        assert_drops(
            &probe,
            1,
            "after the failed upgrades (they must not drop the value again)",
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
        assert_drops(
            &probe,
            1,
            "after `drop(a)`, the last Rc, while `w1` and `w2` remain (the value dies with the \
             last Rc, whatever Weaks are left)",
        );
        // These read the counts in the box: it must still be allocated.
        assert_expected(
            "`w1.strong_count()` after `drop(a)` (the box outlives the value while a Weak holds it)",
            &0,
            &w1.strong_count(),
        );
        drop(w1);
        assert_expected(
            "`w2.strong_count()` after `drop(w1)` (`w2` still holds the box)",
            &0,
            &w2.strong_count(),
        );
        assert!(
            w2.upgrade().is_none(),
            "`w2.upgrade()` after the value died should be None"
        );
        drop(w2);
        assert_drops(
            &probe,
            1,
            "after `drop(w2)` freed the box (freeing the box must not drop the value again)",
        );
    });
}

#[test]
fn weak_new_never_upgrades() {
    watched(|| {
        let w: Weak<Token> = Weak::new();
        assert!(
            w.upgrade().is_none(),
            "`Weak::new().upgrade()` should be None (there is no box), but yours gave an Rc"
        );
        assert_expected("`Weak::new().strong_count()`", &0, &w.strong_count());
        let w2 = w.clone();
        assert!(
            w2.upgrade().is_none(),
            "a clone of `Weak::new()` should not upgrade either"
        );
        drop(w);
        drop(w2);
        let w3: Weak<String> = Weak::default();
        assert!(
            w3.upgrade().is_none(),
            "`Weak::default().upgrade()` should be None"
        );
    });
}

#[test]
fn weak_clones_and_drops_move_the_weak_count() {
    watched(|| {
        let a = Rc::new(6u16);
        let w = Rc::downgrade(&a);
        let mut clones: Vec<Weak<u16>> = (0..4).map(|_| w.clone()).collect();
        assert_counts("a", "after four `w.clone()`s of its Weak `w`", (1, 5), &a);
        clones.truncate(2);
        assert_counts("a", "after two of the clones were dropped", (1, 3), &a);
        drop(clones);
        drop(w);
        assert_counts("a", "after every Weak was dropped", (1, 0), &a);
        assert_expected("`*a`", &6, &*a);
    });
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
            let with = if outside_weak {
                "with a second Weak `outside`"
            } else {
                "with no other Weak"
            };
            let seen = StdRc::new(Cell::new(None));
            let a = Rc::new(SelfAware {
                me: RefCell::new(Weak::new()),
                upgraded_while_dying: seen.clone(),
                _token: probe.token(1),
            });
            *a.me.borrow_mut() = Rc::downgrade(&a);
            let outside = outside_weak.then(|| Rc::downgrade(&a));
            assert_counts(
                "a",
                &format!("once its value holds a Weak to it, {with}"),
                (1, 1 + usize::from(outside_weak)),
                &a,
            );
            // Dropping the value drops its own Weak: the box must survive until `Drop for Rc` is
            // done with it (run under Miri to see a use after free if it does not).
            drop(a);
            assert_expected(
                &format!(
                    "whether the value's own Weak could upgrade from inside the value's Drop, \
                     {with} (Some(false): strong must already read 0 while the value dies)"
                ),
                &Some(false),
                &seen.get(),
            );
            if let Some(outside) = outside {
                assert!(
                    outside.upgrade().is_none(),
                    "`outside.upgrade()` after `drop(a)` should be None"
                );
                assert_expected(
                    "`outside.strong_count()` after `drop(a)`",
                    &0,
                    &outside.strong_count(),
                );
            }
        }
        assert_drops(
            &probe,
            2,
            "after both rounds (each of the two values dropped exactly once)",
        );
    });
}

// `get_mut` and `try_unwrap` (section `get-mut`).

#[test]
fn get_mut_allowed_when_unique() {
    watched(|| {
        let probe = DropProbe::new();
        let mut a = Rc::new(probe.token(1));
        let Some(value) = Rc::get_mut(&mut a) else {
            panic!(
                "`Rc::get_mut(&mut a)` on a new Rc, with no clone and no Weak, should be Some, but yours is None"
            )
        };
        value.id = 2;
        assert_expected(
            "`a.id` after writing 2 through `get_mut` (the change is made in the box)",
            &2,
            &a.id,
        );
        let clone = a.clone();
        drop(clone);
        let weak = Rc::downgrade(&a);
        drop(weak);
        let Some(slot) = Rc::get_mut(&mut a) else {
            panic!(
                "`Rc::get_mut(&mut a)` once its clone and its Weak were dropped should be Some \
                 (unique again), but yours is None"
            )
        };
        *slot = probe.token(3);
        assert_drops(
            &probe,
            1,
            "after `*Rc::get_mut(&mut a).unwrap() = token 3` (the old value is dropped)",
        );
        assert_expected("`a.id`", &3, &a.id);
        assert_counts("a", "at the end", (1, 0), &a);
    });
}

#[test]
fn get_mut_refused_while_shared() {
    watched(|| {
        let mut a = Rc::new(10u32);
        let mut b = a.clone();
        assert!(
            Rc::get_mut(&mut a).is_none(),
            "`Rc::get_mut(&mut a)` while its clone `b` is alive should be None (`b` could see the \
             change), but yours gave Some"
        );
        assert!(
            Rc::get_mut(&mut b).is_none(),
            "`Rc::get_mut(&mut b)` while `a` is alive should be None, but yours gave Some"
        );
        drop(b);
        let Some(value) = Rc::get_mut(&mut a) else {
            panic!("`Rc::get_mut(&mut a)` after `drop(b)` should be Some, but yours is None")
        };
        *value += 1;
        assert_expected("`*a` after adding 1 through get_mut", &11, &*a);
    });
}

#[test]
fn get_mut_refused_while_a_weak_exists() {
    watched(|| {
        let mut a = Rc::new(10u32);
        let w = Rc::downgrade(&a);
        assert!(
            Rc::get_mut(&mut a).is_none(),
            "`Rc::get_mut(&mut a)` while the Weak `w` exists should be None (`w` could upgrade and \
             read the value while it is being changed), but yours gave Some"
        );
        assert_counts(
            "a",
            "after the refused get_mut (it changes no count)",
            (1, 1),
            &a,
        );
        drop(w);
        let Some(value) = Rc::get_mut(&mut a) else {
            panic!("`Rc::get_mut(&mut a)` after `drop(w)` should be Some, but yours is None")
        };
        *value += 1;
        assert_expected("`*a` after adding 1 through get_mut", &11, &*a);
    });
}

#[test]
fn try_unwrap_returns_the_value_when_unique() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(5));
        let clone = a.clone();
        drop(clone);
        let token = match Rc::try_unwrap(a) {
            Ok(token) => token,
            Err(_) => panic!(
                "`Rc::try_unwrap(a)` with `a` the only Rc should give the value, but yours gave \
                 the Rc back"
            ),
        };
        assert_expected("the unwrapped token's id", &5, &token.id);
        assert_drops(
            &probe,
            0,
            "right after `try_unwrap` (it moves the value out; it must not drop it)",
        );
        drop(token);
        assert_drops(&probe, 1, "after its new owner dropped the token");
    });
}

#[test]
fn try_unwrap_gives_the_rc_back_when_shared() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(6));
        let b = a.clone();
        let a = match Rc::try_unwrap(a) {
            Err(a) => a,
            Ok(_) => panic!(
                "`Rc::try_unwrap(a)` while its clone `b` is alive should give `a` back, but \
                 yours took the value out"
            ),
        };
        assert!(
            std::ptr::eq(&*a, &*b),
            "the Rc given back should point to the same value as `b`"
        );
        assert_counts(
            "a",
            "after the refused try_unwrap (it changes no count)",
            (2, 0),
            &a,
        );
        assert_expected("`a.id`", &6, &a.id);
        assert_drops(&probe, 0, "after the refused try_unwrap");
        drop(b);
        let token = match Rc::try_unwrap(a) {
            Ok(token) => token,
            Err(_) => panic!(
                "`Rc::try_unwrap(a)` after `drop(b)` should give the value (`a` is unique now), \
                 but yours gave the Rc back"
            ),
        };
        assert_expected("the unwrapped token's id", &6, &token.id);
        drop(token);
        assert_drops(&probe, 1, "after the token was dropped");
    });
}

#[test]
fn try_unwrap_leaves_weaks_that_no_longer_upgrade() {
    frees_every_box(|| {
        let probe = DropProbe::new();
        let a = Rc::new(probe.token(7));
        let w = Rc::downgrade(&a);
        let token = match Rc::try_unwrap(a) {
            Ok(token) => token,
            Err(_) => panic!(
                "`Rc::try_unwrap(a)` with one Rc and a Weak `w` should give the value (a Weak \
                 does not stop it; std agrees), but yours gave the Rc back"
            ),
        };
        assert_expected("the unwrapped token's id", &7, &token.id);
        assert!(
            w.upgrade().is_none(),
            "`w.upgrade()` after `try_unwrap` should be None (the value has left the box), but \
             yours gave an Rc"
        );
        assert_expected(
            "`w.strong_count()` after `try_unwrap`",
            &0,
            &w.strong_count(),
        );
        drop(w);
        assert_drops(
            &probe,
            0,
            "after `drop(w)` freed the box (the value moved out and must not be dropped there)",
        );
        drop(token);
        assert_drops(&probe, 1, "after the token was dropped");
    });
}

// `ptr_eq` (section `ptr-eq`).

#[test]
fn clone_shares_one_allocation() {
    watched(|| {
        let a = Rc::new(1u8);
        let b = a.clone();
        assert_expected(
            "`Rc::ptr_eq(&a, &b)` after `let b = a.clone()`",
            &true,
            &Rc::ptr_eq(&a, &b),
        );
        let c = Rc::downgrade(&b)
            .upgrade()
            .expect("`b` is alive, so the upgrade works");
        assert_expected(
            "`Rc::ptr_eq(&a, &c)` for `c`, upgraded from a Weak to `b`",
            &true,
            &Rc::ptr_eq(&a, &c),
        );
        let other = Rc::new(1u8);
        assert_expected(
            "`Rc::ptr_eq(&a, &other)` for a second `Rc::new(1)`",
            &false,
            &Rc::ptr_eq(&a, &other),
        );
    });
}

#[test]
fn equal_values_in_separate_boxes_are_not_ptr_eq() {
    watched(|| {
        let a = Rc::new(String::from("spam"));
        let b = Rc::new(String::from("spam"));
        assert_expected("`*a == *b`", &true, &(*a == *b));
        assert_expected(
            "`Rc::ptr_eq(&a, &b)` for two `Rc::new(\"spam\")` (equal values, two boxes)",
            &false,
            &Rc::ptr_eq(&a, &b),
        );
        assert_expected("`Rc::ptr_eq(&a, &a)`", &true, &Rc::ptr_eq(&a, &a));
        assert_expected(
            "`Rc::ptr_eq(&b, &b.clone())`",
            &true,
            &Rc::ptr_eq(&b, &b.clone()),
        );
    });
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
    let mark = Mark::now();
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
                 (< expected (std::rc::Rc), > yours):\n{}",
                testkit::debug_diff(&model, &ours)
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
    let leaked = mark.blocks_kept();
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
    watched(|| {
        let programs = if cfg!(miri) { 4 } else { 200 };
        check_programs(
            "Rc and Weak against std::rc::Rc (a slot number is taken modulo the number of live \
             pointers of its kind)",
            1..=programs,
            random_program,
            matches_std,
        );
    });
}
