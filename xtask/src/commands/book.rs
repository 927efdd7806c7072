//! `cargo xtask book`: build the mdBook into `book/build`, after checking that every code listing
//! it includes exists. Offers to install mdBook where it is missing.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::course::book::check_includes;

/// The mdBook release line the book is written for.
const MDBOOK_SERIES: &str = "v0.5.";
const MDBOOK_INSTALL: &str = "cargo install mdbook --version 0.5.4 --locked";

/// Checks the includes, then runs mdBook. Returns the exit code.
pub fn build(root: &Path) -> Result<i32, String> {
    let problems = check_includes(root)?;
    if !problems.is_empty() {
        return Err(format!(
            "the book includes code that is not there:\n  {}",
            problems.join("\n  ")
        ));
    }
    let mdbook = match find_mdbook() {
        Some(mdbook) => mdbook,
        None => offer_to_install()?,
    };
    let version = Command::new(&mdbook)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if !version.contains(MDBOOK_SERIES) {
        return Err(format!(
            "the book needs mdBook 0.5, and `{}` is `{version}`. Install 0.5 with:\n  {MDBOOK_INSTALL}",
            mdbook.display()
        ));
    }
    let status = Command::new(&mdbook)
        .arg("build")
        .arg(root.join("book"))
        .status()
        .map_err(|e| format!("could not run {}: {e}", mdbook.display()))?;
    if status.success() {
        println!(
            "The book is in {}; open index.html in a browser.",
            root.join("book/build").display()
        );
        Ok(0)
    } else {
        Ok(status.code().unwrap_or(1))
    }
}

/// mdBook is missing: on a terminal, offer to install it (and say it takes minutes); elsewhere,
/// say how. Either way the book's Markdown in `book/src` reads as it is.
fn offer_to_install() -> Result<PathBuf, String> {
    let how = format!(
        "The book is built with mdBook 0.5, which is not installed here. Install it once with\n  \
         {MDBOOK_INSTALL}\n(it compiles mdBook from source: two to five minutes), then run `cargo \
         xtask book` again. Meanwhile the chapters read as they are in book/src, as Markdown."
    );
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        return Err(how);
    }
    println!("mdBook 0.5 builds the book, and it is not installed here.");
    print!(
        "Install it now with `{MDBOOK_INSTALL}`? It compiles from source, which takes two to \
         five minutes. [y/N] "
    );
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
        return Err(how);
    }
    let mut words = MDBOOK_INSTALL.split_whitespace().skip(1);
    let status = Command::new(crate::run::cargo())
        .args(&mut words)
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "`{MDBOOK_INSTALL}` failed (its output is above). {how}"
        ));
    }
    find_mdbook().ok_or_else(|| {
        "mdBook was installed, but is not on PATH nor in cargo's bin folder: add \
         ~/.cargo/bin to PATH, then run `cargo xtask book` again."
            .to_string()
    })
}

fn find_mdbook() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("mdbook"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(home.join("bin").join("mdbook")).filter(|p| p.is_file())
    })
}
