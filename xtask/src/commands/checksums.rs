//! `cargo xtask checksums`: rewrite (or, with `--check`, compare) `labs/checksums.txt`, the git
//! blob ids of every lab's graded files (for maintainers, after changing a test).

use std::fs;
use std::path::Path;

use crate::course::checksums::{LIST, compare, generate, parse, render};

/// `cargo xtask checksums`: writes the list for the course at `root` (or, with `check`, compares
/// without writing). Returns the exit code: 0 when the list was current or is now, 1 when `check`
/// found it stale.
pub fn run(root: &Path, check: bool) -> Result<i32, String> {
    let fresh = generate(root)?;
    let path = root.join(LIST);
    let text = match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    // A list that does not parse (a merge left conflict markers in it, say) is stale: `check`
    // says why, and rewriting replaces it.
    let old = match text.map(|text| parse(&text, &path)).transpose() {
        Ok(old) => old,
        Err(e) if check => return Err(e),
        Err(e) => {
            println!(
                "{e}
Rewriting it."
            );
            None
        }
    };
    let changes = match &old {
        Some(old) => compare(old, &fresh),
        None => vec![format!("{LIST} is missing or unreadable")],
    };
    if changes.is_empty() {
        println!("{LIST} is up to date: {} graded files.", fresh.len());
        return Ok(0);
    }
    if check {
        println!("{LIST} does not match the graded files:");
        for c in &changes {
            println!("  {c}");
        }
        println!(
            "Run `cargo xtask checksums` to rewrite it (after checking the changes are meant)."
        );
        return Ok(1);
    }
    fs::write(&path, render(&fresh))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if old.is_none() {
        println!("Wrote {LIST}: {} graded files.", fresh.len());
        return Ok(0);
    }
    println!("Rewrote {LIST} ({} graded files):", fresh.len());
    for c in &changes {
        println!("  {c}");
    }
    Ok(0)
}
