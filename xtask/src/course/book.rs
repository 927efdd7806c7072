//! The book's pages as the course sees them: its code includes, its sections (a hint's
//! `page.md#id`), and which graded test each section names. `commands::book` builds it.

use std::fs;
use std::path::{Path, PathBuf};

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
                            .trim_start_matches('#')
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
pub fn tests_named(root: &Path, lab: &crate::course::labs::Lab) -> Vec<String> {
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
        match find_test(&text, &test.name) {
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

/// Where test `name` is named in `text`: in backticks (as the book names tests), or else where it
/// first stands as a whole identifier (not inside a longer name). A test named like a word of the
/// text (`freeze`) is found where the book names it, not where the word is used.
fn find_test(text: &str, name: &str) -> Option<usize> {
    text.find(&format!("`{name}`"))
        .map(|at| at + 1)
        .or_else(|| find_word(text, name))
}

/// Where `word` first stands in `text` as a whole identifier (not inside a longer name).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
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
    fn a_test_named_like_a_word_is_found_in_backticks() {
        let text = "Call gc.freeze() first. The parity test `freeze` checks it.";
        assert_eq!(super::find_test(text, "freeze"), Some(41));
        assert_eq!(super::find_test("only freeze here", "freeze"), Some(5));
    }

    #[test]
    fn a_test_name_is_found_as_a_whole_word_only() {
        let text = "`frees_everything_twice` comes first, then `frees_everything`.";
        assert_eq!(super::find_word(text, "frees_everything"), Some(44));
        assert_eq!(super::find_word(text, "everything"), None);
    }

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
