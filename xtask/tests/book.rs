//! The book stays whole and readable: every internal link and `#anchor` of the built book leads
//! somewhere, no page is too long to read in one sitting, every listing fits the content column,
//! and every figure's labels are legible at 100% zoom.
//!
//! The first test builds the book with mdBook into a temporary folder; where mdBook is not
//! installed it says so and checks nothing (`.ci/run` installs it before `cargo test`). The others
//! read `book/src` and need nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn book_src() -> PathBuf {
    root().join("book/src")
}

/// Every file under `dir` whose name ends with `suffix`, sorted.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

// The built book: links and anchors.

/// mdBook 0.5, on PATH or in cargo's bin folder.
fn mdbook() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("mdbook"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/mdbook")));
    candidates.into_iter().find(|path| {
        path.is_file()
            && Command::new(path)
                .arg("--version")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("v0.5."))
    })
}

/// The values of every `name="..."` attribute in `html`, in order, with the entities mdBook
/// writes decoded.
fn attributes(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    let mut values = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let end = after.find('"').unwrap_or(after.len());
        values.push(
            after[..end]
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">"),
        );
        rest = &after[end..];
    }
    values
}

/// `%xx` escapes decoded (UTF-8), as a browser does before it looks for a file or an id.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a link leaves the book (another site, an e-mail address, a script).
fn external(link: &str) -> bool {
    link.contains("://")
        || link.starts_with("//")
        || link.starts_with("mailto:")
        || link.starts_with("javascript:")
        || link.starts_with("data:")
}

#[test]
fn every_internal_link_and_anchor_of_the_built_book_resolves() {
    let Some(mdbook) = mdbook() else {
        eprintln!(
            "skipped: mdBook 0.5 is not installed here, so the built book's links were not \
             checked (install it with `cargo install mdbook --version 0.5.4 --locked`; .ci/run \
             does)"
        );
        return;
    };
    let out_dir = std::env::temp_dir().join(format!("gclabs-book-links-{}", std::process::id()));
    let _ = fs::remove_dir_all(&out_dir);
    let build = Command::new(&mdbook)
        .arg("build")
        .arg(root().join("book"))
        .arg("--dest-dir")
        .arg(&out_dir)
        .output()
        .expect("mdbook runs");
    assert!(
        build.status.success(),
        "mdbook build failed:\n{}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );

    // The ids of every page, read once.
    // The 404 page is left out: its links are relative to the address the book is served from
    // (`site-url`), which only the server knows.
    let pages: Vec<PathBuf> = files(&out_dir, ".html")
        .into_iter()
        .filter(|p| p.file_name().is_none_or(|n| n != "404.html"))
        .collect();
    let mut ids: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    for page in &pages {
        let html = fs::read_to_string(page).unwrap();
        ids.insert(page.clone(), attributes(&html, "id").into_iter().collect());
    }

    // Every link of every page, and of the sidebar (toc.js, whose links are relative to the
    // book's root). Each is (where it is, the folder it is relative to, the link).
    let mut links: Vec<(PathBuf, PathBuf, String)> = Vec::new();
    for page in &pages {
        let html = fs::read_to_string(page).unwrap();
        let folder = page.parent().unwrap().to_path_buf();
        for link in attributes(&html, "href")
            .into_iter()
            .chain(attributes(&html, "src"))
        {
            links.push((page.clone(), folder.clone(), link));
        }
    }
    for toc in files(&out_dir, ".js").into_iter().filter(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("toc"))
    }) {
        let js = fs::read_to_string(&toc).unwrap();
        for link in attributes(&js, "href") {
            links.push((toc.clone(), out_dir.clone(), link));
        }
    }

    let mut problems = Vec::new();
    let mut checked = 0;
    for (page, folder, link) in &links {
        if link.is_empty() || external(link) {
            continue;
        }
        let (path_part, fragment) = match link.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (link.as_str(), None),
        };
        let path_part = path_part.split('?').next().unwrap_or("");
        let target = if path_part.is_empty() {
            page.clone()
        } else {
            folder.join(percent_decoded(path_part))
        };
        let target = normalize(&target);
        checked += 1;
        let place = page
            .strip_prefix(&out_dir)
            .unwrap_or(page)
            .display()
            .to_string();
        if !target.is_file() {
            problems.push(format!("{place}: {link} leads to no file"));
            continue;
        }
        if let Some(fragment) = fragment.filter(|f| !f.is_empty()) {
            let fragment = percent_decoded(fragment);
            let known = ids.get(&target).is_some_and(|set| set.contains(&fragment));
            if !known {
                problems.push(format!("{place}: {link}: the page has no id `{fragment}`"));
            }
        }
    }
    let _ = fs::remove_dir_all(&out_dir);
    assert!(
        problems.is_empty(),
        "{} of the built book's {checked} internal links are dead:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    assert!(
        checked > 1000,
        "only {checked} internal links were found: the scan of the built book is broken"
    );
    eprintln!("{checked} internal links and anchors of the built book resolve");
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

// The Markdown: long pages and wide listings.

/// The most words a chapter page may have, not counting its code blocks: about twenty minutes of
/// reading. A page that grows past it is split, in the order of the tests.
const MAX_WORDS: usize = 4_000;

/// A page's words, counted the simple way: whitespace-separated tokens of the Markdown outside
/// fenced code blocks (a table row's cells and a link's address count as words, an included
/// listing as the one word of its `{{#include}}`).
fn words(markdown: &str) -> usize {
    let mut fenced = false;
    let mut count = 0;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            count += line.split_whitespace().count();
        }
    }
    count
}

#[test]
fn no_chapter_page_is_longer_than_about_four_thousand_words() {
    let mut pages: Vec<(usize, String)> = files(&book_src(), ".md")
        .iter()
        .map(|page| (words(&fs::read_to_string(page).unwrap()), shown(page)))
        .collect();
    pages.sort();
    let long: Vec<String> = pages
        .iter()
        .filter(|(count, _)| *count > MAX_WORDS)
        .map(|(count, page)| format!("{page}: {count} words"))
        .collect();
    assert!(
        long.is_empty(),
        "pages over {MAX_WORDS} words (code blocks not counted): split them, in the order of \
         the tests:\n  {}",
        long.join("\n  ")
    );
    let (most, page) = pages.last().expect("the book has pages");
    eprintln!("the longest page is {page}, {most} words");
}

/// The most characters of a listing line that the content column shows without a scroll bar at
/// 1280 px (920 px column, 14 px monospace: 106 fit; rustfmt keeps the labs' code to 100).
const MAX_COLUMNS: usize = 100;

/// The lines an `{{#include file...}}` of `page` shows: the whole file, the lines between its
/// `ANCHOR: name` and `ANCHOR_END: name` (anchor lines left out, as mdBook does), or a range of
/// lines (`file:3:` or `file:3:9`).
fn included_lines(page: &Path, spec: &str) -> Vec<String> {
    let mut parts = spec.splitn(2, ':');
    let file = parts.next().unwrap_or("");
    let selector = parts.next();
    let path = page.parent().unwrap().join(file);
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: includes {}: {e}", shown(page), path.display()));
    let lines: Vec<&str> = text.lines().collect();
    let selected: Vec<&str> = match selector {
        None => lines,
        Some(sel) if sel.starts_with(|c: char| c.is_ascii_digit()) => {
            let mut bounds = sel.split(':');
            let from: usize = bounds.next().and_then(|n| n.parse().ok()).unwrap_or(1);
            let to: usize = bounds
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(lines.len());
            lines
                .iter()
                .skip(from.saturating_sub(1))
                .take(to.saturating_sub(from.saturating_sub(1)))
                .copied()
                .collect()
        }
        Some(anchor) => {
            let mut inside = false;
            let mut out = Vec::new();
            for line in lines {
                let marker = line
                    .trim()
                    .trim_start_matches("//")
                    .trim_start_matches('#')
                    .trim();
                if marker.strip_prefix("ANCHOR:").map(str::trim) == Some(anchor) {
                    inside = true;
                } else if marker.strip_prefix("ANCHOR_END:").map(str::trim) == Some(anchor) {
                    inside = false;
                } else if inside && !marker.starts_with("ANCHOR") {
                    out.push(line);
                }
            }
            out
        }
    };
    selected.into_iter().map(str::to_string).collect()
}

/// Every listing of code (a fenced block in any language but `text`) fits the content column.
/// Blocks of `text` are program output and diagrams, and `gclabs.css` wraps their long lines
/// (a grader's one-line message, a CPython error) at the column instead.
#[test]
fn every_listing_fits_the_content_column() {
    let mut problems = Vec::new();
    for page in files(&book_src(), ".md") {
        let text = fs::read_to_string(&page).unwrap();
        let mut fenced = false;
        let mut output = false;
        for (number, line) in text.lines().enumerate() {
            if let Some(info) = line.trim_start().strip_prefix("```") {
                fenced = !fenced;
                output = fenced && info.trim() == "text";
                continue;
            }
            if !fenced || output {
                continue;
            }
            let shown_lines = match line.trim().strip_prefix("{{#include ") {
                Some(rest) => included_lines(&page, rest.trim_end_matches("}}").trim()),
                None => vec![line.to_string()],
            };
            for shown_line in shown_lines {
                let width = shown_line.chars().count();
                if width > MAX_COLUMNS {
                    problems.push(format!(
                        "{}:{}: a line of {width} characters: {}",
                        shown(&page),
                        number + 1,
                        shown_line.chars().take(60).collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "listing lines wider than the content column ({MAX_COLUMNS} characters):\n  {}",
        problems.join("\n  ")
    );
}

// The figures.

/// The smallest text a figure may show at 100% zoom, in CSS pixels.
const MIN_TEXT_PX: f64 = 12.0;
/// The widest a figure is shown at 100% zoom at 1280 px: the content column (gclabs.css).
const COLUMN_PX: f64 = 917.0;

/// The number right after `prefix` in `text` (`width="840"` → 840).
fn number_after(text: &str, prefix: &str) -> Option<f64> {
    let at = text.find(prefix)? + prefix.len();
    let digits: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok()
}

#[test]
fn every_figure_is_legible_at_100_percent() {
    let mut problems = Vec::new();
    let figures = files(&book_src(), ".svg");
    assert!(!figures.is_empty(), "the book has no figures");
    for figure in &figures {
        let svg = fs::read_to_string(figure).unwrap();
        let head = &svg[..svg.find('>').unwrap_or(svg.len())];
        let Some(width) = number_after(head, " width=\"") else {
            problems.push(format!("{}: the <svg> has no width", shown(figure)));
            continue;
        };
        // The drawing's own units: the viewBox's width, or the width when there is none.
        let units = number_after(head, "viewBox=\"")
            .and_then(|_| {
                let at = head.find("viewBox=\"")? + "viewBox=\"".len();
                head[at..].split_whitespace().nth(2)?.parse::<f64>().ok()
            })
            .unwrap_or(width);
        let scale = width.min(COLUMN_PX) / units;
        let mut sizes = Vec::new();
        for prefix in ["font-size=\"", "font-size:"] {
            let mut rest = svg.as_str();
            while let Some(at) = rest.find(prefix) {
                rest = &rest[at + prefix.len()..];
                if let Some(size) = number_after(rest.trim_start(), "") {
                    sizes.push(size);
                }
            }
        }
        if sizes.is_empty() {
            problems.push(format!("{}: no font size is given", shown(figure)));
        }
        for size in sizes {
            if size * scale < MIN_TEXT_PX - 1e-9 {
                problems.push(format!(
                    "{}: text of {size} px in a drawing {units} wide, shown {} px wide: {:.1} px \
                     at 100% zoom",
                    shown(figure),
                    width.min(COLUMN_PX),
                    size * scale
                ));
            }
        }
    }
    problems.dedup();
    assert!(
        problems.is_empty(),
        "figures with text under {MIN_TEXT_PX} px at 100% zoom (1280 px wide window):\n  {}",
        problems.join("\n  ")
    );
}
