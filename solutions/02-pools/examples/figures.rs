//! The pictures of the lab 02 chapter (`book/src/02-pools/`), drawn from runs of the reference
//! pymalloc, not by hand.
//!
//! - `usedpools.svg`: the lists of used pools after a small program, then what one `free` in a
//!   full pool does to its class's list, and where the next `malloc` of that class goes.
//! - `arena-order-0.svg` to `arena-order-7.svg`: the worked example of "The order of arenas"
//!   (`nfp2lasta`), run on four arenas filled with 512-byte blocks and emptied pool by pool; each
//!   picture is `usable_arenas`, each arena's 64 pools, and the `nfp2lasta` entries, as the
//!   reference's views read them after the step. The example fails if a step does not leave the
//!   lists the chapter's table says.
//! - `free-cases.svg`: the four cases of `insert_to_freepool`, each as the list just before and
//!   just after the `free` that empties a pool, taken from the same run.
//! - `radix-tree.svg`: the three levels of the arena map, with the bit widths and shifts of the
//!   reference's tree (`ARENA_MAP_LEVELS`) and the indices it computes (`arena_map_indices`) for
//!   an example address.
//!
//! ```text
//!   cargo run -p pools-solution --example figures              writes the pictures
//!   cargo run -p pools-solution --example figures -- --check   compares, writes nothing
//!   cargo xtask figures                                         every chapter's pictures
//! ```
//!
//! The example is declared with `test = true`, so `cargo test` runs the comparison too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::ptr::NonNull;

use drawing::{Figures, LineStyle, Svg, TextStyle, palette};
use pools::pymalloc::{
    ARENA_MAP_LEVELS, ArenaInfo, PoolInfo, PoolState, PyMalloc, arena_map_indices, blocks_per_pool,
    size_class,
};

/// The command that draws the pictures again.
const REDRAW: &str = "cargo run -p pools-solution --example figures";

fn figures() -> Figures {
    let mut pictures = vec![("usedpools.svg".to_string(), usedpools())];
    let run = ArenaRun::run();
    for (step, snapshot) in run.steps.iter().enumerate() {
        pictures.push((
            format!("arena-order-{step}.svg"),
            arena_order(step, snapshot),
        ));
    }
    pictures.push(("free-cases.svg".to_string(), free_cases(&run)));
    pictures.push(("radix-tree.svg".to_string(), radix_tree()));
    Figures {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/02-pools"),
        redraw: REDRAW,
        pictures,
    }
}

fn main() {
    figures().run();
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_pictures_match_what_the_reference_draws() {
        super::figures().assert_up_to_date();
    }
}

fn malloc(heap: &mut PyMalloc, size: usize) -> NonNull<u8> {
    heap.malloc(size).expect("the allocator has memory")
}

fn free(heap: &mut PyMalloc, block: NonNull<u8>) {
    // SAFETY: every block freed here was returned by `heap.malloc` and is freed once.
    unsafe { heap.free(block) };
}

// The blocks of one pool, drawn as cells.

/// Draws the blocks of a pool as a strip of cells: in use, on the free list, never carved.
fn block_strip(svg: &mut Svg, x: f64, y: f64, info: &PoolInfo, free_list: &[usize]) {
    let class = info.size_class.expect("a used pool has a size class");
    let blocks = blocks_per_pool(class);
    let cell = 5.0;
    // A pool of small blocks has hundreds: the first 36 are drawn, and the count says the rest.
    let shown = blocks.min(36);
    if shown < blocks {
        svg.text(
            x + cell * shown as f64 + 6.0,
            y + 11.0,
            &format!("... {blocks} in all"),
            TextStyle::new(12.0).colour(palette::MUTED),
        );
    }
    for block in 0..shown {
        let swatch = if block >= info.carved_blocks {
            palette::EMPTY
        } else if free_list.contains(&block) {
            palette::WAITING
        } else {
            palette::YOUNG
        };
        svg.rect(
            x + cell * block as f64,
            y,
            cell,
            12.0,
            swatch.fill,
            swatch.stroke,
            0.6,
        );
    }
}

// Figure: the lists of used pools.

/// One pool as the picture shows it.
struct PoolView {
    info: PoolInfo,
    free_list: Vec<usize>,
}

fn view(heap: &PyMalloc, info: PoolInfo) -> PoolView {
    PoolView {
        free_list: heap.free_list(info.arena, info.pool),
        info,
    }
}

/// One row: a label, the list's pools first to last, and the full pools of that class.
struct ListRow {
    label: String,
    note: String,
    list: Vec<PoolView>,
    full: Vec<PoolView>,
}

fn list_row(heap: &PyMalloc, class: usize, full_pools: &[usize], note: String) -> ListRow {
    ListRow {
        label: format!("usedpools[{class}]"),
        note,
        list: heap
            .usedpools(class)
            .into_iter()
            .map(|info| view(heap, info))
            .collect(),
        full: full_pools
            .iter()
            .filter_map(|&pool| heap.pool_info(0, pool))
            .filter(|info| info.state == PoolState::Full && info.size_class == Some(class))
            .map(|info| view(heap, info))
            .collect(),
    }
}

fn usedpools() -> String {
    let mut heap = PyMalloc::new();
    let small = size_class(24).expect("24 bytes is small");
    let large = size_class(440).expect("440 bytes is small");
    let per_pool = blocks_per_pool(large);
    // Five 24-byte blocks, then two pools and a half of 440-byte ones.
    let _smalls: Vec<_> = (0..5).map(|_| malloc(&mut heap, 24)).collect();
    let larges: Vec<_> = (0..2 * per_pool + 12)
        .map(|_| malloc(&mut heap, 440))
        .collect();
    for (i, &block) in larges.iter().enumerate().skip(2 * per_pool + 3).step_by(3) {
        let _ = i;
        free(&mut heap, block);
    }
    let pools: Vec<usize> = (0..4).collect();
    let mut rows = vec![
        list_row(
            &heap,
            small,
            &pools,
            format!("five blocks of 24 bytes (class {small})"),
        ),
        list_row(
            &heap,
            large,
            &pools,
            format!(
                "{} blocks of 440 bytes (class {large}, {per_pool} to a pool), three of the \
                 last pool's freed",
                2 * per_pool + 12
            ),
        ),
    ];
    // A block of the first full pool is freed: the pool joins its list at the front.
    let freed = larges[4];
    let freed_at = heap.locate(freed.as_ptr()).expect("a pymalloc block");
    free(&mut heap, freed);
    rows.push(list_row(
        &heap,
        large,
        &pools,
        format!(
            "free(a block of pool {}), which was full: the pool joins the list at the front",
            freed_at.pool
        ),
    ));
    let again = malloc(&mut heap, 440);
    let again_at = heap.locate(again.as_ptr()).expect("a pymalloc block");
    assert_eq!(
        again_at, freed_at,
        "the next malloc of the class should reuse the block just freed"
    );
    rows.push(list_row(
        &heap,
        large,
        &pools,
        format!(
            "malloc(440) takes that very block (block {} of pool {}): the pool is full again \
             and leaves",
            again_at.block, again_at.pool
        ),
    ));

    let mut svg = Svg::new(880.0, "The lists of used pools (usedpools)");
    let mut y = 56.0;
    let box_w = 212.0;
    for row in &rows {
        svg.text(
            20.0,
            y + 14.0,
            &row.note,
            TextStyle::new(13.0).colour(palette::MUTED),
        );
        let top = y + 24.0;
        svg.text(
            20.0,
            top + 34.0,
            &row.label,
            TextStyle::new(14.0).bold().mono(),
        );
        let mut x = 158.0;
        svg.line(
            x - 14.0,
            top + 30.0,
            x,
            top + 30.0,
            LineStyle::new().arrow(),
        );
        if row.list.is_empty() {
            svg.text(
                x + 4.0,
                top + 35.0,
                "(empty)",
                TextStyle::new(13.0).colour(palette::MUTED),
            );
        }
        for (i, pool) in row.list.iter().enumerate() {
            draw_pool(&mut svg, x, top, box_w, pool, palette::YOUNG.stroke);
            if i + 1 < row.list.len() {
                svg.line(
                    x + box_w,
                    top + 30.0,
                    x + box_w + 18.0,
                    top + 30.0,
                    LineStyle::new().arrow(),
                );
            }
            x += box_w + 18.0;
        }
        if !row.full.is_empty() {
            // The full pools of the class, on no list, to the right.
            let mut fx = 158.0 + 2.0 * (box_w + 18.0) + 12.0;
            svg.text(
                fx,
                top + 12.0,
                "full, on no list:",
                TextStyle::new(12.5).colour(palette::MUTED),
            );
            for pool in &row.full {
                svg.rect_dashed(
                    fx,
                    top + 20.0,
                    74.0,
                    30.0,
                    "#ffffff",
                    palette::EMPTY.stroke,
                    1.6,
                    true,
                );
                svg.text(
                    fx + 37.0,
                    top + 40.0,
                    &format!("pool {}", pool.info.pool),
                    TextStyle::new(13.0).bold().centre(),
                );
                fx += 82.0;
            }
        }
        y = top + 72.0;
    }
    let y = svg.bottom() + 18.0;
    let mut x = 20.0;
    x = svg.legend(x, y, palette::YOUNG, "block in use");
    x = svg.legend(x, y, palette::WAITING, "on the pool's free list");
    x = svg.legend(x, y, palette::EMPTY, "never carved");
    let _ = x;
    svg.caption(
        "Each size class has its own list, first pool first; malloc takes a block from the first \
         pool's free list, so a pool on a list always has a free block, and a full pool is on no \
         list. A block freed in a full pool puts the pool back at the front of its list, and the \
         next malloc of that class gets exactly that block. Drawn from the reference, which \
         carves blocks lazily: a new pool has carved two.",
    );
    svg.finish()
}

fn draw_pool(svg: &mut Svg, x: f64, y: f64, w: f64, pool: &PoolView, border: &str) {
    let full = pool.info.state == PoolState::Full;
    svg.rect_dashed(x, y, w, 60.0, "#ffffff", border, 1.6, full);
    let class = pool.info.size_class.expect("a used pool has a size class");
    svg.text(
        x + 8.0,
        y + 17.0,
        &format!("pool {}", pool.info.pool),
        TextStyle::new(13.0).bold(),
    );
    svg.text(
        x + w - 8.0,
        y + 17.0,
        &format!(
            "{} of {} in use",
            pool.info.blocks_in_use,
            blocks_per_pool(class)
        ),
        TextStyle::new(12.5).right().colour(palette::MUTED),
    );
    block_strip(svg, x + 8.0, y + 26.0, &pool.info, &pool.free_list);
    let free = if pool.free_list.is_empty() {
        "free list: empty".to_string()
    } else {
        let shown: Vec<String> = pool
            .free_list
            .iter()
            .take(4)
            .map(ToString::to_string)
            .collect();
        let more = if pool.free_list.len() > 4 { " ..." } else { "" };
        format!("free list: {}{more}", shown.join(" → "))
    };
    svg.text(x + 8.0, y + 53.0, &free, TextStyle::new(12.5).mono());
}

// The arena order: four arenas, emptied pool by pool.

/// The book's names for the arenas of the worked example.
const LETTERS: [char; 4] = ['A', 'B', 'C', 'D'];

/// What one picture of the worked example shows.
#[derive(Clone)]
struct ArenaSnapshot {
    what: String,
    why: String,
    /// `usable_arenas`, first to last: (letter, free pools).
    usable: Vec<(char, usize)>,
    /// Arenas on no list, and arenas given back to the OS.
    off_list: Vec<(char, usize)>,
    unmapped: Vec<char>,
    /// `nfp2lasta`: (free pools, letter).
    last: Vec<(usize, char)>,
    /// The pools of each mapped arena, by letter: a state per pool.
    pools: BTreeMap<char, Vec<PoolState>>,
}

/// The worked example, run on the reference.
struct ArenaRun {
    steps: Vec<ArenaSnapshot>,
    /// For each case of `insert_to_freepool`, 1 to 4: the step, and the list just before and just
    /// after the free that emptied the pool.
    cases: BTreeMap<u8, (usize, ArenaSnapshot, ArenaSnapshot)>,
}

struct ArenaHeap {
    heap: PyMalloc,
    /// The blocks still allocated, by arena index, then pool number.
    blocks: BTreeMap<usize, BTreeMap<usize, Vec<NonNull<u8>>>>,
    letters: BTreeMap<usize, char>,
}

impl ArenaHeap {
    fn snapshot(&self, what: &str, why: &str) -> ArenaSnapshot {
        // Before the letters are given (while the example is set up), an arena is `?`.
        let letter = |index: usize| self.letters.get(&index).copied().unwrap_or('?');
        let usable: Vec<(char, usize)> = self
            .heap
            .usable_arenas()
            .iter()
            .map(|a: &ArenaInfo| (letter(a.index), a.nfreepools))
            .collect();
        let mut off_list = Vec::new();
        let mut unmapped = Vec::new();
        let mut pools = BTreeMap::new();
        for (&index, &l) in &self.letters {
            match self.heap.arena_info(index) {
                None => unmapped.push(l),
                Some(info) => {
                    if !usable.iter().any(|(u, _)| *u == l) {
                        off_list.push((l, info.nfreepools));
                    }
                    let states = (0..64)
                        .map(|pool| {
                            self.heap
                                .pool_info(index, pool)
                                .map_or(PoolState::Empty, |p| p.state)
                        })
                        .collect();
                    pools.insert(l, states);
                }
            }
        }
        ArenaSnapshot {
            what: what.to_string(),
            why: why.to_string(),
            usable,
            off_list,
            unmapped,
            last: self
                .heap
                .nfp2lasta()
                .into_iter()
                .map(|(count, index)| (count, letter(index)))
                .collect(),
            pools,
        }
    }

    /// Frees every block of one pool of `arena` (the pool with the highest number that still has
    /// blocks), returning the lists just before and just after the last free.
    fn empty_a_pool(&mut self, arena: usize) -> (ArenaSnapshot, ArenaSnapshot) {
        let pools = self.blocks.get_mut(&arena).expect("a known arena");
        let (&pool, _) = pools
            .iter()
            .rev()
            .find(|(_, blocks)| !blocks.is_empty())
            .expect("a pool with blocks");
        let mut blocks = pools.remove(&pool).expect("the pool");
        let last = blocks.pop().expect("a block");
        for block in blocks {
            free(&mut self.heap, block);
        }
        let before = self.snapshot("", "");
        free(&mut self.heap, last);
        let after = self.snapshot("", "");
        (before, after)
    }
}

/// Which case of `insert_to_freepool` a pool-emptying free was, seen from the lists.
fn case_of(letter: char, before: &ArenaSnapshot, after: &ArenaSnapshot) -> u8 {
    let place = |s: &ArenaSnapshot| s.usable.iter().position(|(l, _)| *l == letter);
    match (place(before), place(after)) {
        (_, None) if after.unmapped.contains(&letter) => 1,
        (None, Some(0)) => 2,
        (Some(b), Some(a)) => {
            let order = |s: &ArenaSnapshot| s.usable.iter().map(|(l, _)| *l).collect::<Vec<_>>();
            if order(before) == order(after) {
                assert_eq!(a, b);
                4
            } else {
                3
            }
        }
        other => panic!("a free in arena {letter} left the lists in no case: {other:?}"),
    }
}

impl ArenaRun {
    fn run() -> ArenaRun {
        let mut arena = ArenaHeap {
            heap: PyMalloc::new(),
            blocks: BTreeMap::new(),
            letters: BTreeMap::new(),
        };
        // Four arenas of 64 full pools of 512-byte blocks.
        let per_pool = blocks_per_pool(size_class(512).expect("512 is small"));
        for _ in 0..4 * 64 * per_pool {
            let block = malloc(&mut arena.heap, 512);
            let at = arena.heap.locate(block.as_ptr()).expect("a pymalloc block");
            arena
                .blocks
                .entry(at.arena)
                .or_default()
                .entry(at.pool)
                .or_default()
                .push(block);
        }
        assert_eq!(arena.blocks.len(), 4, "four arenas, filled");
        // Empty 2 pools of the first, 5 of the second and third; the fourth stays full. The
        // book's letters name them by their place: A has 2 free pools, B and C 5 (B first in
        // the list), D none.
        let frees = [(0, 2), (1, 5), (2, 5)];
        for (index, count) in frees {
            for _ in 0..count {
                arena.empty_a_pool(index);
            }
        }
        let order: Vec<usize> = arena.heap.usable_arenas().iter().map(|a| a.index).collect();
        let full = (0..4)
            .find(|i| !order.contains(i))
            .expect("one arena is full");
        for (letter, index) in LETTERS.iter().zip(order.iter().chain([&full])) {
            arena.letters.insert(*index, *letter);
        }
        let index_of = |arena: &ArenaHeap, letter: char| {
            *arena
                .letters
                .iter()
                .find(|(_, l)| **l == letter)
                .expect("a letter")
                .0
        };

        let mut steps = vec![arena.snapshot(
            "Four arenas: A has 2 free pools, B and C have 5, D has none",
            "usable_arenas holds the arenas with a free pool, fewest free first: A, then B and \
             C. D, with none, is on no list.",
        )];
        let mut cases = BTreeMap::new();
        let record = |cases: &mut BTreeMap<u8, _>, step, letter, (before, after)| {
            let case = case_of(letter, &before, &after);
            cases.entry(case).or_insert((step, before, after));
        };

        // 1: a class needs a pool.
        let _first = malloc(&mut arena.heap, 16);
        steps.push(arena.snapshot(
            "malloc(16): the class has no pool, so A, the first arena, gives one",
            "A has the fewest free pools and gives the pool; it stays first, and nfp2lasta[1] \
             names it now, nfp2lasta[2] nothing.",
        ));
        // 2, 3, 4: a pool of B, of C, of D becomes empty.
        let b = index_of(&arena, 'B');
        let freed = arena.empty_a_pool(b);
        record(&mut cases, 2, 'B', freed);
        steps.push(arena.snapshot(
            "A pool of B becomes empty: B has 6 free pools",
            "B was not the last arena with 5: it moves to just after C, which nfp2lasta[5] named \
             (case 3).",
        ));
        let c = index_of(&arena, 'C');
        let freed = arena.empty_a_pool(c);
        record(&mut cases, 3, 'C', freed);
        steps.push(arena.snapshot(
            "A pool of C becomes empty: C has 6 free pools",
            "C was the last arena with 5, so it is already in place and does not move (case 4); \
             B is still the last with 6.",
        ));
        let d = index_of(&arena, 'D');
        let freed = arena.empty_a_pool(d);
        record(&mut cases, 4, 'D', freed);
        steps.push(arena.snapshot(
            "A pool of D becomes empty: D has 1 free pool",
            "D was on no list: it joins at the front (case 2), and A stays nfp2lasta[1], the \
             last arena with 1.",
        ));
        // 5: another class needs a pool.
        let _second = malloc(&mut arena.heap, 32);
        steps.push(arena.snapshot(
            "malloc(32): a new class needs a pool, and D gives its last",
            "D, first, gives the pool; with none left it leaves the list.",
        ));
        // 6, 7: B drains, then C.
        let mut last_free = None;
        while arena.blocks[&b].values().any(|blocks| !blocks.is_empty()) {
            last_free = Some(arena.empty_a_pool(b));
        }
        record(&mut cases, 6, 'B', last_free.take().expect("B had pools"));
        steps.push(arena.snapshot(
            "B drains: its pools empty one by one, up to 64",
            "B goes to the end of the list; completely empty and last, it is kept.",
        ));
        while arena.blocks[&c].values().any(|blocks| !blocks.is_empty()) {
            last_free = Some(arena.empty_a_pool(c));
        }
        record(&mut cases, 7, 'C', last_free.take().expect("C had pools"));
        steps.push(arena.snapshot(
            "C drains: its last pool empties with B after it",
            "An empty arena with another arena after it goes back to the OS (case 1): C is \
             unmapped, and its arena object waits on unused_arena_objects.",
        ));

        // The table of the chapter, step by step.
        let expected: [&[(char, usize)]; 8] = [
            &[('A', 2), ('B', 5), ('C', 5)],
            &[('A', 1), ('B', 5), ('C', 5)],
            &[('A', 1), ('C', 5), ('B', 6)],
            &[('A', 1), ('C', 6), ('B', 6)],
            &[('D', 1), ('A', 1), ('C', 6), ('B', 6)],
            &[('A', 1), ('C', 6), ('B', 6)],
            &[('A', 1), ('C', 6), ('B', 64)],
            &[('A', 1), ('B', 64)],
        ];
        for (step, (snapshot, expected)) in steps.iter().zip(expected).enumerate() {
            assert_eq!(
                snapshot.usable, expected,
                "step {step} of the worked example: usable_arenas differs from the chapter's table"
            );
        }
        assert_eq!(
            cases.keys().copied().collect::<Vec<_>>(),
            [1, 2, 3, 4],
            "the worked example shows each case of insert_to_freepool"
        );
        ArenaRun { steps, cases }
    }
}

/// An arena box: its letter, its free pools and its 64 pools as cells.
/// The width of an arena's box.
const ARENA_W: f64 = 160.0;

fn draw_arena(svg: &mut Svg, x: f64, y: f64, letter: char, free: usize, pools: &[PoolState]) {
    svg.rect(x, y, ARENA_W, 58.0, "#ffffff", palette::INK, 1.6);
    svg.text(
        x + 10.0,
        y + 20.0,
        &letter.to_string(),
        TextStyle::new(17.0).bold(),
    );
    svg.text(
        x + ARENA_W - 8.0,
        y + 19.0,
        &format!("{free} free pool{}", if free == 1 { "" } else { "s" }),
        TextStyle::new(13.0).bold().right(),
    );
    for (i, state) in pools.iter().enumerate() {
        let swatch = match state {
            PoolState::Full => palette::YOUNG,
            PoolState::Used => palette::WAITING,
            PoolState::Empty => palette::EMPTY,
        };
        let (col, row) = (i % 32, i / 32);
        svg.rect(
            x + 8.0 + 4.5 * col as f64,
            y + 30.0 + 11.0 * row as f64,
            4.5,
            10.0,
            swatch.fill,
            swatch.stroke,
            0.5,
        );
    }
}

fn arena_order(step: usize, snapshot: &ArenaSnapshot) -> String {
    let title = if step == 0 {
        "The order of arenas: the start".to_string()
    } else {
        format!("The order of arenas, step {step}")
    };
    let mut svg = Svg::new(880.0, &title);
    svg.text(
        20.0,
        58.0,
        &snapshot.what,
        TextStyle::new(14.0).bold().colour(palette::ACCENT),
    );
    let top = 80.0;
    svg.text(
        20.0,
        top + 34.0,
        "usable_arenas",
        TextStyle::new(14.0).bold().mono(),
    );
    let mut x = 150.0;
    svg.line(
        x - 14.0,
        top + 29.0,
        x,
        top + 29.0,
        LineStyle::new().arrow(),
    );
    for (i, (letter, free)) in snapshot.usable.iter().enumerate() {
        draw_arena(&mut svg, x, top, *letter, *free, &snapshot.pools[letter]);
        if let Some((count, _)) = snapshot.last.iter().find(|(_, l)| l == letter) {
            svg.text(
                x + ARENA_W / 2.0,
                top + 78.0,
                &format!("nfp2lasta[{count}]"),
                TextStyle::new(13.0)
                    .bold()
                    .mono()
                    .centre()
                    .colour(palette::ACCENT),
            );
            svg.line(
                x + ARENA_W / 2.0,
                top + 66.0,
                x + ARENA_W / 2.0,
                top + 60.0,
                LineStyle::new().colour(palette::ACCENT).arrow(),
            );
        }
        if i + 1 < snapshot.usable.len() {
            svg.line(
                x + ARENA_W,
                top + 29.0,
                x + ARENA_W + 16.0,
                top + 29.0,
                LineStyle::new().arrow(),
            );
        }
        x += ARENA_W + 16.0;
    }
    let row2 = top + 104.0;
    let mut x2 = 150.0;
    if !snapshot.off_list.is_empty() || !snapshot.unmapped.is_empty() {
        svg.text(
            20.0,
            row2 + 34.0,
            "elsewhere",
            TextStyle::new(14.0).bold().colour(palette::MUTED),
        );
    }
    for (letter, free) in &snapshot.off_list {
        draw_arena(&mut svg, x2, row2, *letter, *free, &snapshot.pools[letter]);
        svg.text(
            x2 + ARENA_W + 10.0,
            row2 + 34.0,
            "on no list: no free pool",
            TextStyle::new(13.0).colour(palette::MUTED),
        );
        x2 += 380.0;
    }
    for letter in &snapshot.unmapped {
        svg.rect_dashed(
            x2,
            row2,
            ARENA_W,
            58.0,
            palette::DEAD.fill,
            palette::DEAD.stroke,
            1.6,
            true,
        );
        svg.text(
            x2 + 10.0,
            row2 + 20.0,
            &letter.to_string(),
            TextStyle::new(17.0).bold(),
        );
        svg.text(
            x2 + 10.0,
            row2 + 44.0,
            "unmapped: back to the OS",
            TextStyle::new(13.0).bold().colour(palette::DEAD.stroke),
        );
        x2 += 380.0;
    }
    let y = svg.bottom() + 18.0;
    let mut x = 20.0;
    x = svg.legend(x, y, palette::YOUNG, "full pool");
    x = svg.legend(x, y, palette::WAITING, "used pool");
    svg.legend(x, y, palette::EMPTY, "free pool (empty, or never carved)");
    svg.caption(&snapshot.why);
    svg.finish()
}

fn free_cases(run: &ArenaRun) -> String {
    let mut svg = Svg::new(880.0, "The four cases of a pool that empties, in its arena");
    let names = [
        (
            1,
            "Case 1: every pool of the arena is free, and another arena follows it: unmapped",
        ),
        (
            2,
            "Case 2: the arena had no free pool (on no list): it joins at the front",
        ),
        (
            3,
            "Case 3: its new count puts it out of order: it moves after nfp2lasta[old count]",
        ),
        (
            4,
            "Case 4: it was the last arena with its old count: it stays where it is",
        ),
    ];
    let mut y = 58.0;
    for (case, name) in names {
        let (step, before, after) = &run.cases[&case];
        svg.text(
            20.0,
            y + 14.0,
            &format!("{name} (step {step})"),
            TextStyle::new(13.5).bold(),
        );
        let row = y + 24.0;
        svg.text(
            20.0,
            row + 20.0,
            "before",
            TextStyle::new(13.0).colour(palette::MUTED),
        );
        let mut x = compact_list(&mut svg, 80.0, row, &before.usable, None);
        svg.text(x + 6.0, row + 20.0, "→", TextStyle::new(16.0).bold());
        svg.text(
            x + 30.0,
            row + 20.0,
            "after",
            TextStyle::new(13.0).colour(palette::MUTED),
        );
        x = compact_list(&mut svg, x + 72.0, row, &after.usable, None);
        if let Some(gone) = after.unmapped.iter().find(|l| !before.unmapped.contains(l)) {
            svg.text(
                x + 8.0,
                row + 20.0,
                &format!("{gone}: unmapped"),
                TextStyle::new(13.0).bold().colour(palette::DEAD.stroke),
            );
        }
        y = row + 44.0;
    }
    svg.caption(
        "insert_to_freepool runs when a free empties a pool, and its arena gains a free pool. \
         Each row is usable_arenas, as (arena, free pools), just before and just after that free, \
         from the run of the worked example on the reference. The arenas with a free pool stay \
         sorted by how many they have, fewest first, and only case 3 moves an arena: right after \
         the last one that still has its old count.",
    );
    svg.finish()
}

/// A compact list of arenas, `A 1 → C 6 → ...`; returns the x after it.
fn compact_list(
    svg: &mut Svg,
    mut x: f64,
    y: f64,
    list: &[(char, usize)],
    _hot: Option<char>,
) -> f64 {
    let style = TextStyle::new(13.0).bold().mono();
    for (i, (letter, free)) in list.iter().enumerate() {
        let text = format!("{letter} {free}");
        let w = style.width_of(&text) + 16.0;
        svg.rect(x, y + 4.0, w, 24.0, palette::PANEL, palette::MUTED, 1.2);
        svg.text(x + w / 2.0, y + 21.0, &text, style.centre());
        x += w;
        if i + 1 < list.len() {
            svg.line(x, y + 16.0, x + 12.0, y + 16.0, LineStyle::new().arrow());
            x += 12.0;
        }
    }
    x
}

// Figure: the radix tree.

fn radix_tree() -> String {
    // A block address as a 64-bit Linux process may see one: the arena it lies in starts at the
    // 1 MiB boundary below it.
    let address: usize = 0x0000_7f3a_c541_3a30;
    let indices = arena_map_indices(address);
    let arena_bits = ARENA_MAP_LEVELS[2].2;
    let offset = address & ((1 << arena_bits) - 1);
    let mut svg = Svg::new(880.0, "The arena map: a radix tree over the address bits");
    svg.text(
        20.0,
        60.0,
        &format!("address_in_range(0x{address:016x})"),
        TextStyle::new(15.0).bold().mono(),
    );
    // The address, cut into its fields, as a bar 64 bits wide.
    let bar_x = 20.0;
    let bar_w = 840.0;
    let bit = bar_w / 64.0;
    let fields: Vec<(String, u32, u32, String, palette::Swatch)> = ARENA_MAP_LEVELS
        .iter()
        .zip(indices)
        .map(|(&(name, bits, shift), index)| {
            (
                name.to_string(),
                bits,
                shift,
                format!("{index}"),
                palette::YOUNG,
            )
        })
        .chain([(
            "offset in the arena".to_string(),
            arena_bits,
            0,
            format!("0x{offset:x}"),
            palette::EMPTY,
        )])
        .collect();
    for (name, bits, shift, value, swatch) in &fields {
        let left = bar_x + bit * (64 - shift - bits) as f64;
        let w = bit * *bits as f64;
        svg.rect(left, 76.0, w, 46.0, swatch.fill, swatch.stroke, 1.4);
        svg.text(
            left + w / 2.0,
            95.0,
            &format!("{name}: {bits} bits"),
            TextStyle::new(13.0).bold().centre(),
        );
        svg.text(
            left + w / 2.0,
            114.0,
            &format!("bits {}..{} = {value}", shift + bits - 1, shift),
            TextStyle::new(13.0).mono().centre(),
        );
    }
    // The three nodes.
    let node_y = 170.0;
    let node_w = 230.0;
    let xs = [20.0, 325.0, 630.0];
    let labels = [
        "root (made at the first arena)",
        "a middle node",
        "a bottom node (leaf)",
    ];
    for (i, ((&(name, bits, _), index), x)) in
        ARENA_MAP_LEVELS.iter().zip(indices).zip(xs).enumerate()
    {
        let entries = 1usize << bits;
        let bytes = if i == 2 { entries * 8 / 2 } else { entries * 8 };
        svg.text(
            x,
            node_y - 10.0,
            labels[i],
            TextStyle::new(13.0).bold().colour(palette::MUTED),
        );
        svg.rect(x, node_y, node_w, 150.0, palette::PANEL, palette::INK, 1.4);
        svg.text(
            x + 10.0,
            node_y + 22.0,
            &format!("{entries} entries, indexed by {name}"),
            TextStyle::new(13.0),
        );
        svg.text(
            x + 10.0,
            node_y + 40.0,
            &format!("{} KiB", bytes / 1024),
            TextStyle::new(13.0).colour(palette::MUTED),
        );
        // The entry the lookup reads.
        svg.rect(
            x + 14.0,
            node_y + 62.0,
            node_w - 28.0,
            34.0,
            palette::WAITING.fill,
            palette::WAITING.stroke,
            2.0,
        );
        let what = if i == 2 {
            "which arena: its index + 1"
        } else {
            "a pointer to the next node"
        };
        svg.text(
            x + node_w / 2.0,
            node_y + 84.0,
            &format!("[{index}]"),
            TextStyle::new(14.0).bold().mono().centre(),
        );
        svg.text(
            x + 10.0,
            node_y + 114.0,
            &format!("holds {what}"),
            TextStyle::new(12.5),
        );
        if i < 2 {
            svg.line(
                x + node_w - 14.0,
                node_y + 79.0,
                xs[i + 1],
                node_y + 79.0,
                LineStyle::new().arrow().colour(palette::ACCENT).width(2.2),
            );
        }
        svg.text(
            x + 10.0,
            node_y + 134.0,
            if i == 2 {
                "0: no arena in this 1 MiB slot"
            } else {
                "null: no node below yet"
            },
            TextStyle::new(12.5).colour(palette::MUTED),
        );
    }
    svg.caption(&format!(
        "free(p) must know whether p is one of pymalloc's blocks without reading memory that may \
         not be its own. The address's top {top} bits index the root, the next {mid} a middle \
         node, the next {bot} a bottom node, whose entry says which arena, if any, holds the 1 \
         MiB slot of the address: three loads, whatever the number of arenas. Nodes are made when \
         an arena in their range is mapped, zeroed (nothing there). The bit widths and the \
         indices are the reference's (ARENA_MAP_LEVELS, arena_map_indices); CPython 3.11's tree \
         has the same levels, and its leaves say which part of the slot an unaligned arena \
         covers, where ours, aligned, name the arena.",
        top = ARENA_MAP_LEVELS[0].1,
        mid = ARENA_MAP_LEVELS[1].1,
        bot = ARENA_MAP_LEVELS[2].1,
    ));
    svg.finish()
}
