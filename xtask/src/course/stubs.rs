//! The stubs are generated from the solutions, so the two cannot drift apart.
//!
//! In a solution, a task the learner writes is fenced like this:
//!
//! ```text
//!     pub fn strong_count(this: &Self) -> usize {
//!         // BEGIN SOLUTION: return how many `Rc`s share this box.
//!         this.inner().strong.get()
//!         // END SOLUTION
//!     }
//! ```
//!
//! and in the stub the fenced lines, markers included, become `// TODO: <task>` and `todo!()` at
//! the same indentation. Every other byte is copied, so types, documentation, provided helpers and
//! anchors for the book are the same in both: "stub and solution differ only at TODO sites" holds
//! by construction, and `cargo xtask check` verifies the files on disk match.

use std::fs;
use std::path::{Path, PathBuf};

use crate::course::labs::Lab;
use crate::text::wrap;

const BEGIN: &str = "// BEGIN SOLUTION";
/// The stub's `// TODO:` text is wrapped to this many columns, as rustfmt wraps code.
const TODO_WIDTH: usize = 100;
const END: &str = "// END SOLUTION";

/// Turns one solution file into its stub. `name` is used in error messages.
pub fn generate(solution: &str, name: &str) -> Result<String, String> {
    let mut out = String::with_capacity(solution.len());
    let mut open: Option<usize> = None;
    for (i, line) in solution.split_inclusive('\n').enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(BEGIN) {
            if let Some(first) = open {
                return Err(format!(
                    "{name}:{n}: BEGIN SOLUTION inside the region opened at line {first}"
                ));
            }
            let task = rest.trim_start_matches(':').trim();
            if task.is_empty() {
                return Err(format!(
                    "{name}:{n}: BEGIN SOLUTION needs the learner's task: `{BEGIN}: what to do`"
                ));
            }
            let indent = &line[..line.len() - line.trim_start().len()];
            for (k, text) in wrap(task, TODO_WIDTH.saturating_sub(indent.len() + 9))
                .iter()
                .enumerate()
            {
                let lead = if k == 0 { "// TODO: " } else { "//       " };
                out.push_str(&format!("{indent}{lead}{text}\n"));
            }
            out.push_str(&format!("{indent}todo!()\n"));
            open = Some(n);
        } else if trimmed == END {
            if open.take().is_none() {
                return Err(format!("{name}:{n}: END SOLUTION without a BEGIN SOLUTION"));
            }
        } else if open.is_none() {
            out.push_str(line);
        }
    }
    match open {
        Some(first) => Err(format!(
            "{name}:{first}: BEGIN SOLUTION is never closed by `{END}`"
        )),
        None => Ok(out),
    }
}

/// Every stub file of a lab, as generated from its solution: (path under `labs/NN/src`, text).
pub fn expected(lab: &Lab) -> Result<Vec<(PathBuf, String)>, String> {
    let src = lab.solution_dir.join("src");
    let mut files = Vec::new();
    collect_rs(&src, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).map_err(|e| e.to_string())?;
        let text = fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        out.push((
            lab.lab_dir.join("src").join(rel),
            generate(&text, &file.display().to_string())?,
        ));
    }
    Ok(out)
}

/// The stub files that differ from what the solution generates (or are missing, or extra).
pub fn differences(lab: &Lab) -> Result<Vec<String>, String> {
    let expected = expected(lab)?;
    let mut problems = Vec::new();
    for (path, text) in &expected {
        match fs::read_to_string(path) {
            Ok(actual) if actual == *text => {}
            Ok(_) => problems.push(format!(
                "{} differs from the stub generated from the solution",
                path.display()
            )),
            Err(_) => problems.push(format!("{} is missing", path.display())),
        }
    }
    let mut actual = Vec::new();
    collect_rs(&lab.lab_dir.join("src"), &mut actual)?;
    for path in actual {
        if !expected.iter().any(|(p, _)| *p == path) {
            problems.push(format!(
                "{} has no counterpart in the solution",
                path.display()
            ));
        }
    }
    Ok(problems)
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::generate;

    #[test]
    fn a_region_becomes_todo_at_its_indentation() {
        let solution =
            "fn f() -> u32 {\n    // BEGIN SOLUTION: return one.\n    1\n    // END SOLUTION\n}\n";
        let stub = generate(solution, "f.rs").unwrap();
        assert_eq!(
            stub,
            "fn f() -> u32 {\n    // TODO: return one.\n    todo!()\n}\n"
        );
    }

    #[test]
    fn a_long_task_is_wrapped_to_the_line_width() {
        let task = "word ".repeat(40);
        let solution = format!("    // BEGIN SOLUTION: {task}\n    1\n    // END SOLUTION\n");
        let stub = generate(&solution, "w.rs").unwrap();
        let lines: Vec<&str> = stub.lines().collect();
        assert!(lines.len() > 3, "{stub}");
        assert!(lines.iter().all(|l| l.len() <= 100), "{stub}");
        assert!(
            lines[0].starts_with("    // TODO: word") && lines[1].starts_with("    //       word")
        );
        assert_eq!(*lines.last().unwrap(), "    todo!()");
    }

    #[test]
    fn text_outside_regions_is_copied_byte_for_byte() {
        let solution = "// a comment\r\nstruct S;   \n";
        assert_eq!(generate(solution, "s.rs").unwrap(), solution);
    }

    #[test]
    fn unbalanced_or_empty_markers_are_errors_with_a_line() {
        let open = generate("// BEGIN SOLUTION: x\n", "a.rs").unwrap_err();
        assert!(
            open.contains("a.rs:1") && open.contains("never closed"),
            "{open}"
        );
        let close = generate("x\n// END SOLUTION\n", "b.rs").unwrap_err();
        assert!(close.contains("b.rs:2"), "{close}");
        let empty = generate("// BEGIN SOLUTION\n// END SOLUTION\n", "c.rs").unwrap_err();
        assert!(empty.contains("needs the learner's task"), "{empty}");
    }
}
