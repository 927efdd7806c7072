//! Graded test for lab 05: the memory that marking needs.
//!
//! The colours live in the objects, and the gray set is the worklist: marking needs memory for
//! the gray objects, and nothing for the white or the black ones. For a chain, each scan shades
//! one object, so the worklist never holds more than one, however long the chain. A marker that
//! keeps its own record of what it has seen (a `HashSet` of ids, a `Vec<bool>` the size of the
//! heap), or that pushes an object each time it is reached instead of once, gets the same colours
//! and needs memory in proportion to the heap.
//!
//! This test binary's allocator (testkit's `Checking`) counts what each thread holds. The test
//! marks the same heap with the reference and with yours, and compares the most memory each
//! needed at once beyond what the heap held before.

use testkit::alloc::{Checking, Mark};
use testkit::assert_same;

#[global_allocator]
static ALLOCATOR: Checking = Checking;

/// Lists in the chain.
const OBJECTS: usize = 200_000;

/// How many bytes more than the reference marking may need: room for a worklist of another
/// capacity, and far less than a bit per object of a set of seen ids (a `HashSet<ObjId>` of
/// 200,000 needs megabytes).
const SLACK: usize = 64 * 1024;

/// On a fresh heap of `$krate` without a barrier: a chain of [`OBJECTS`] lists, the first one
/// the only root; then `mark_roots()` and `mark()`. Returns the most bytes held at once during
/// the marking beyond what was held before it, and how many lists ended black.
macro_rules! mark_chain {
    ($krate:ident) => {{
        let mut heap = $krate::Heap::new($krate::Barrier::None);
        let first = heap.new_list("first");
        let mut last = first;
        for _ in 1..OBJECTS {
            let next = heap.new_list("");
            heap.append(last, next).expect("appending to a live list");
            heap.pop_root().expect("the new list is on the root stack");
            last = next;
        }
        let mark = Mark::now();
        heap.mark_roots();
        heap.mark();
        let bytes = mark.peak_extra_bytes();
        let black = heap
            .object_ids()
            .into_iter()
            .filter(|&id| heap.color(id) == $krate::Color::Black)
            .count();
        (bytes, black)
    }};
}

#[test]
fn marking_200000_objects_needs_memory_only_for_the_gray_ones() {
    let (reference_bytes, reference_black) = mark_chain!(reference);
    let (bytes, black) = mark_chain!(tricolor);
    println!(
        "peak extra bytes of mark_roots() and mark(): reference {reference_bytes}, yours {bytes}"
    );
    assert_same(
        &format!("how many lists of a chain of {OBJECTS} are black after mark_roots(), mark()"),
        &reference_black,
        &black,
    );
    assert!(
        bytes <= reference_bytes + SLACK,
        "mark_roots() and mark() on a chain of {OBJECTS} lists needed {bytes} bytes of memory \
         beyond what the heap held before, at the peak; the reference needed {reference_bytes}: \
         expected at most {SLACK} more than the reference. Your marking keeps memory for objects \
         that are not gray (a set of ids seen, a table the size of the heap, or an object pushed \
         on the worklist each time it is reached): the colour in each object is the record, and \
         only gray objects are on the worklist, once"
    );
}
