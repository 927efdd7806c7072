//! `cargo xtask book`: build the mdBook into `book/build`, after checking that every code listing
//! it includes and every section a hint points to exists.

use std::fs;
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
    let mdbook = find_mdbook().ok_or_else(|| {
        format!("mdBook is not installed. Install it once with:\n  {MDBOOK_INSTALL}\nthen run `cargo xtask book` again.")
    })?;
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
    text.lines().filter(|l| l.starts_with('#')).any(|heading| {
        let title = heading.trim_start_matches('#').trim();
        if let Some(open) = title.rfind("{#") {
            let explicit = title[open + 2..]
                .trim_end_matches('}')
                .split_whitespace()
                .next()
                .unwrap_or("");
            return explicit == id;
        }
        slug(title) == id
    })
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
    use super::slug;

    #[test]
    fn slugs_follow_mdbook() {
        assert_eq!(slug("Rc::new and Deref"), "rcnew-and-deref");
        assert_eq!(
            slug("The box and its two counts"),
            "the-box-and-its-two-counts"
        );
    }
}
