//! The pictures of the lab 03 chapter (`book/src/03-cycles/`), drawn from what the reference
//! collector does, not by hand: the worked example of the algorithm page (`worked.rs`), and the
//! pictures of the weak references and finalizers pages (`pages.rs`), and the log of the lab's
//! `watch` example (`watch.log`), which the collection page shows.
//!
//! ```text
//!   cargo run -p cycles-solution --example figures              writes the pictures
//!   cargo run -p cycles-solution --example figures -- --check   compares, writes nothing
//!   cargo xtask figures                                          every chapter's pictures
//! ```
//!
//! The example is declared with `test = true`, so `cargo test` runs the comparison too: a change
//! to the collector or to pyheap that changes a picture fails it until the pictures are drawn
//! again.

use std::path::PathBuf;

use drawing::Figures;

mod pages;
// The lab's `watch` example: the log it prints is kept in the book, next to the pictures. Its
// `main` is the example's own, unused here.
#[path = "../../../../labs/03-cycles/examples/watch.rs"]
#[allow(dead_code)]
mod watch;
mod worked;

fn figures() -> Figures {
    let mut pictures = worked::pictures();
    pictures.extend(pages::pictures());
    let mut log = watch::program().join("\n");
    log.push('\n');
    pictures.push(("watch.log".to_string(), log));
    Figures {
        dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../book/src/03-cycles"),
        redraw: "cargo run -p cycles-solution --example figures",
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
