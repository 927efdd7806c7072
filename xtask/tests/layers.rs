//! The course tool is a pipeline of layers (see the top of xtask/src/main.rs): text, course, run,
//! grade, report, commands. A module may use its own layer and the ones below it, never one
//! above, and no two files may use each other, even through others: a circle would make the
//! layers a tangle again. This reads the sources, so it needs no build of anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, bottom first.
const LAYERS: [&str; 7] = [
    "text", "course", "run", "grade", "report", "commands", "main",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every source file of the tool, as its module path: `course/labs.rs` -> `course::labs`,
/// `grade/mod.rs` -> `grade`, `main.rs` -> `main`.
fn modules() -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src()).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|p| p == "mod") {
                    parts.pop();
                }
                found.insert(parts.join("::"), path);
            }
        }
    }
    found
}

fn layer(module: &str) -> usize {
    let top = module.split("::").next().unwrap_or(module);
    LAYERS
        .iter()
        .position(|l| *l == top)
        .unwrap_or_else(|| panic!("module `{module}` is in no layer: add it to LAYERS"))
}

/// The `crate::...` paths a file names, braces expanded one level: `use crate::run::{build,
/// sandbox::Outcome}` names `run::build` and `run::sandbox::Outcome`.
fn crate_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let head: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let head = head.trim_end_matches(':').to_string();
        let tail = &after[head.len()..];
        if let Some(inner) = tail.strip_prefix("::{") {
            let inner = &inner[..inner.find('}').unwrap_or(inner.len())];
            for item in inner.split(',') {
                let item = item.trim();
                if item == "self" || item.is_empty() {
                    paths.push(head.clone());
                } else {
                    paths.push(format!("{head}::{item}"));
                }
            }
        } else {
            paths.push(head);
        }
        rest = after;
    }
    paths
}

/// The module (file) a path names: the longest known module that starts it.
fn target<'a>(path: &str, modules: &'a BTreeMap<String, PathBuf>) -> Option<&'a str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find_map(|candidate| modules.get_key_value(&candidate).map(|(k, _)| k.as_str()))
}

/// Which module uses which.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut edges = BTreeMap::new();
    for (module, path) in &modules {
        let text = fs::read_to_string(path).unwrap();
        let used: BTreeSet<String> = crate_paths(&text)
            .iter()
            .filter_map(|p| target(p, &modules))
            .filter(|t| *t != module)
            .map(str::to_owned)
            .collect();
        edges.insert(module.clone(), used);
    }
    edges
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let mut upward = Vec::new();
    for (module, used) in edges() {
        for other in used {
            if layer(&other) > layer(&module) {
                upward.push(format!(
                    "{module} ({}) uses {other} ({})",
                    LAYERS[layer(&module)],
                    LAYERS[layer(&other)]
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a higher layer:\n  {}",
        upward.join("\n  ")
    );
}

#[test]
fn no_modules_use_each_other_in_a_circle() {
    let edges = edges();
    // Depth-first, keeping the path: meeting a module already on it closes a circle.
    fn visit(
        module: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut circle = path[start..].to_vec();
            circle.push(module.to_string());
            return Some(circle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for next in edges.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for module in edges.keys() {
        if let Some(circle) = visit(module, &edges, &mut Vec::new(), &mut done) {
            panic!("a circle: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn the_scan_reads_braces_and_nested_paths() {
    assert_eq!(
        crate_paths("use crate::run::{build, sandbox::Outcome};\nlet x = crate::text::wrap(a);"),
        ["run::build", "run::sandbox::Outcome", "text::wrap"]
    );
    assert_eq!(
        crate_paths("use crate::grade::{self, Side};"),
        ["grade", "grade::Side"]
    );
}
