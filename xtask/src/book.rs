//! `cargo xtask book`: build the mdBook into `book/build`, after checking that every code listing
//! it includes and every section a hint points to exists.

use std::fs;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

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
    let status = Command::new(crate::build::cargo())
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

/// Every `{{#include file:anchor}}` in `book/src` must name a file that exists and, when it names
/// an anchor, a file that has `ANCHOR: anchor` and `ANCHOR_END: anchor`. Returns the problems.
pub fn check_includes(root: &Path) -> Result<Vec<String>, String> {
    let mut pages = Vec::new();
    collect_md(&root.join("book/src"), &mut pages)?;
    let mut problems = Vec::new();
    for page in pages {
        let text = fs::read_to_string(&page)
            .map_err(|e| format!("cannot read {}: {e}", page.display()))?;
        for (lineno, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(start) = rest.find("{{#include ") {
                let after = &rest[start + "{{#include ".len()..];
                let Some(end) = after.find("}}") else { break };
                let spec = after[..end].trim();
                rest = &after[end..];
                let (file, anchor) = match spec.split_once(':') {
                    Some((f, a)) => (f, Some(a)),
                    None => (spec, None),
                };
                let path = page.parent().unwrap_or(root).join(file);
                let place = format!(
                    "{}:{}",
                    page.strip_prefix(root).unwrap_or(&page).display(),
                    lineno + 1
                );
                let Ok(source) = fs::read_to_string(&path) else {
                    problems.push(format!("{place}: includes {file}, which does not exist"));
                    continue;
                };
                let Some(anchor) =
                    anchor.filter(|a| !a.chars().next().is_some_and(|c| c.is_ascii_digit()))
                else {
                    continue;
                };
                let has = |marker: &str| {
                    source.lines().any(|l| {
                        l.trim()
                            .trim_start_matches("//")
                            .trim()
                            .strip_prefix(marker)
                            .map(str::trim)
                            == Some(anchor)
                    })
                };
                if !has("ANCHOR:") || !has("ANCHOR_END:") {
                    problems.push(format!(
                        "{place}: {file} has no anchor `{anchor}` (ANCHOR / ANCHOR_END)"
                    ));
                }
            }
        }
    }
    Ok(problems)
}

/// Whether `page.md#id` (relative to `book/src`) names a heading: one with an explicit `{#id}`,
/// or whose text mdBook turns into that id.
pub fn section_exists(root: &Path, section: &str) -> bool {
    let (page, id) = section.split_once('#').unwrap_or((section, ""));
    let Ok(text) = fs::read_to_string(root.join("book/src").join(page)) else {
        return false;
    };
    if id.is_empty() {
        return true;
    }
    headings(&text).iter().any(|(_, _, heading)| heading == id)
}

/// The headings of a Markdown page, outside fenced code blocks: (byte offset of the line, level,
/// id), the id being the explicit `{#id}` or what mdBook makes of the title.
fn headings(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let (mut offset, mut fenced) = (0, false);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && trimmed.starts_with('#') {
            let level = trimmed.chars().take_while(|c| *c == '#').count();
            let title = trimmed[level..].trim();
            let id = match title.rfind("{#") {
                Some(open) => title[open + 2..]
                    .trim_end_matches('}')
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string(),
                None => slug(title),
            };
            out.push((offset, level, id));
        }
        offset += line.len();
    }
    out
}

/// The text of section `page.md#id` (relative to `book/src`): from its heading to the next heading
/// of the same or a higher level; and the offset where it starts in its page.
pub fn section_text(root: &Path, section: &str) -> Option<(usize, String)> {
    let (page, id) = section.split_once('#')?;
    let text = fs::read_to_string(root.join("book/src").join(page)).ok()?;
    let all = headings(&text);
    let at = all.iter().position(|(_, _, h)| h == id)?;
    let (start, level, _) = all[at];
    let end = all[at + 1..]
        .iter()
        .find(|(_, l, _)| *l <= level)
        .map_or(text.len(), |(offset, _, _)| *offset);
    Some((start, text[start..end].to_string()))
}

/// Every graded test is named in the book section its hints point at (so a learner reading the
/// book meets each test where its task is explained), and the tests of a page are named in
/// `lab.toml`'s order (the order the grader asks for them). Returns the problems.
pub fn tests_named(root: &Path, lab: &crate::labs::Lab) -> Vec<String> {
    let mut problems = Vec::new();
    // Per page, the place each test is first named, in lab.toml's order.
    let mut places: Vec<(&str, usize, &str)> = Vec::new();
    for test in &lab.meta.tests {
        let Some((start, text)) = section_text(root, &test.section) else {
            problems.push(format!(
                "`{}`: its section {} has no text to name it in",
                test.name, test.section
            ));
            continue;
        };
        match text.find(test.name.as_str()) {
            Some(at) => places.push((
                test.section.split('#').next().unwrap_or(""),
                start + at,
                &test.name,
            )),
            None => problems.push(format!(
                "`{}` is not named in its section, {}",
                test.name, test.section
            )),
        }
    }
    for (i, (page, at, name)) in places.iter().enumerate() {
        if let Some((_, _, before)) = places[..i]
            .iter()
            .rev()
            .find(|(p, earlier, _)| p == page && earlier > at)
        {
            problems.push(format!(
                "{page} names `{name}` before `{before}`, which lab.toml lists first: name them in \
                 the order the grader asks for them"
            ));
        }
    }
    problems
}

/// Listings show the learner's crate, never the solutions: an include of `solutions/` would send a
/// learner who reads the Markdown into the answers. Returns the problems.
pub fn includes_from_labs(root: &Path) -> Result<Vec<String>, String> {
    let mut pages = Vec::new();
    collect_md(&root.join("book/src"), &mut pages)?;
    pages.sort();
    let mut problems = Vec::new();
    for page in pages {
        let text = fs::read_to_string(&page)
            .map_err(|e| format!("cannot read {}: {e}", page.display()))?;
        for (lineno, line) in text.lines().enumerate() {
            if line.contains("{{#include") && line.contains("solutions/") {
                problems.push(format!(
                    "{}:{}: includes from solutions/; include the same anchor from labs/ (the \
                     stub has the same code outside its TODO sites)",
                    page.strip_prefix(root).unwrap_or(&page).display(),
                    lineno + 1
                ));
            }
        }
    }
    Ok(problems)
}

/// mdBook's heading ids: letters, digits, `_` and `-` kept (lowercased), spaces become `-`,
/// everything else dropped.
fn slug(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

fn collect_md(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_md(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{headings, slug};

    #[test]
    fn headings_in_code_blocks_are_not_headings() {
        let page = "# Top\n\ntext\n\n```python\n# a comment\n```\n\n## Part {#part}\n";
        let found: Vec<(usize, String)> = headings(page)
            .into_iter()
            .map(|(_, level, id)| (level, id))
            .collect();
        assert_eq!(found, [(1, "top".to_string()), (2, "part".to_string())]);
    }

    #[test]
    fn slugs_follow_mdbook() {
        assert_eq!(slug("Rc::new and Deref"), "rcnew-and-deref");
        assert_eq!(
            slug("The box and its two counts"),
            "the-box-and-its-two-counts"
        );
    }
}
