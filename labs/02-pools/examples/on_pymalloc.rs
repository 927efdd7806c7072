//! A program that runs entirely on pymalloc: every allocation of at most 512 bytes, from the
//! first one the Rust runtime makes to the last, comes from your pools.
//!
//! ```text
//! cargo run --example on_pymalloc
//! ```
//!
//! It builds what a small Python program would (strings, lists, dicts, tuples), prints
//! `sys._debugmallocstats()`'s view of the allocator while they are alive, frees the tuples, and
//! prints it again: the pools emptied go back to their arenas, and the arenas that emptied
//! completely go back to the OS.

use std::collections::BTreeMap;

use pools::pymalloc::PyMallocGlobal;

#[global_allocator]
static PYMALLOC: PyMallocGlobal = PyMallocGlobal::new();

fn main() {
    // words = ["spam" * (1 + i % 9) for i in range(20_000)]
    let words: Vec<String> = (0..20_000).map(|i| "spam".repeat(1 + i % 9)).collect();
    // index = {w: [positions]} for each distinct word
    let mut index: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, word) in words.iter().enumerate() {
        index.entry(word).or_default().push(i);
    }
    // names = {f"name{i}": i for i in range(10_000)}
    let names: BTreeMap<String, u64> = (0..10_000).map(|i| (format!("name{i}"), i)).collect();
    // points = [(i, i * i, -i) for i in range(100_000)]: 24-byte tuples, in arenas of their own
    let points: Vec<Box<(i64, i64, i64)>> =
        (0..100_000).map(|i| Box::new((i, i * i, -i))).collect();

    let stats = PYMALLOC.stats();
    println!(
        "{} words, {} distinct, {} points, {} names: {} blocks in pymalloc's pools, {} arenas",
        words.len(),
        index.len(),
        points.len(),
        names.len(),
        stats.blocks_in_use(),
        stats.arenas_allocated_current
    );
    println!("{stats}");

    // del points: the arenas that held only points empty completely and are unmapped (all but
    // one, kept for the next allocations); the arenas shared with the words stay.
    drop(points);
    let after = PYMALLOC.stats();
    println!(
        "after `del points`: {} blocks in use, {} arenas ({} reclaimed)",
        after.blocks_in_use(),
        after.arenas_allocated_current,
        after.arenas_reclaimed
    );
    println!("{after}");
    match PYMALLOC.check_invariants() {
        Ok(()) => println!("check_invariants: ok"),
        Err(why) => {
            eprintln!("check_invariants: {why}");
            std::process::exit(1);
        }
    }
    drop(names);
    drop(index);
    drop(words);
}
