//! `cargo xtask reset N`: put a lab's stubs back, keeping the learner's version as a backup.
//!
//! The stubs are generated from the reference solution (`stubs.rs`), so a reset gives exactly the
//! files a fresh clone has. Nothing is overwritten before the learner's whole `src/` folder is
//! copied, and the copy checked, into `backups/NN-name-<UTC time>/src` at the course's root:
//! outside `target/`, so that `cargo clean` cannot take it away (the folder is git-ignored). If the
//! backup fails, nothing changes. Then only the files that differ from the stubs are rewritten
//! (each through a temporary file renamed into place), and `.rs` files the stubs do not have are
//! removed. Other files in `src/` (notes, say) are left as they are.
//!
//! The lab's hints start again from the first step: a reset is a fresh start, and `cargo xtask
//! hint N TEST --all` shows any test's hints at once for a learner who wants them back.

use std::fs;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::commands::hint;
use crate::course::labs::{self, Lab};
use crate::course::stubs;
use crate::text::{plural, sh_quote};

/// What to reset.
pub struct Options {
    /// The lab's number.
    pub lab: u32,
    /// Do not ask (the backup is made all the same).
    pub yes: bool,
}

/// What a reset does to one file of `src/`.
enum Change {
    /// The learner's file differs from the stub: it is rewritten.
    Differs(PathBuf, String),
    /// The stub's file is missing: it is written.
    Missing(PathBuf, String),
    /// A `.rs` file the stubs do not have: it is removed.
    Extra(PathBuf),
}

/// Runs `cargo xtask reset`. Returns the exit code: 0 when the stubs are in place, 1 when the
/// learner said no.
pub fn run(root: &Path, options: &Options) -> Result<i32, String> {
    let labs = labs::select(root, &[options.lab])?;
    let lab = &labs[0];
    let src = lab.lab_dir.join("src");
    let shown_src = shown(root, &src);
    if !lab.solution_dir.join("src").is_dir() {
        return Err(format!(
            "cannot put back the stubs of {}: they are generated from its reference solution, and \
             {} is missing. `git checkout -- {shown_src}` restores them from git instead (copy \
             your version somewhere safe first).",
            lab.label(),
            shown(root, &lab.solution_dir.join("src"))
        ));
    }
    let changes = plan(lab)?;
    if changes.is_empty() {
        println!(
            "{} already holds the stubs of {}: nothing to reset.",
            shown_src,
            lab.label()
        );
        return Ok(0);
    }

    println!(
        "Resetting {} ({}) puts its stubs back in {shown_src}:",
        lab.label(),
        lab.meta.title
    );
    for change in &changes {
        let (path, what) = match change {
            Change::Differs(p, _) => (p, "yours differs from the stub: replaced by the stub"),
            Change::Missing(p, _) => (p, "missing: the stub is written"),
            Change::Extra(p) => (p, "not one of the stubs: removed"),
        };
        let rel = path.strip_prefix(&lab.lab_dir).unwrap_or(path);
        println!("  {:<28} {what}", rel.display());
    }
    if src.is_dir() {
        println!("Your whole {shown_src} is backed up first.");
    }

    if !options.yes {
        if !std::io::stdin().is_terminal() {
            return Err(format!(
                "`cargo xtask reset {n}` replaces your work in {shown_src}, so it asks first, and \
                 there is no terminal to ask on. Run it in a terminal, or add --yes to reset \
                 without being asked (your version is backed up all the same): `cargo xtask reset \
                 {n} --yes`.",
                n = lab.meta.number
            ));
        }
        print!("Type y and Enter to reset {}: ", lab.label());
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            println!("Nothing changed.");
            return Ok(1);
        }
    }

    // With no src/ at all there is nothing to lose, and nothing to back up.
    let backup_src = match src.is_dir() {
        true => Some(back_up(root, lab)?.join("src")),
        false => None,
    };
    let restore = match &backup_src {
        Some(b) => {
            let (from, to) = (sh_quote(&shown(root, b)), sh_quote(&shown_src));
            format!("rm -r {to} && cp -r {from} {to}")
        }
        None => String::new(),
    };
    for change in &changes {
        let done = match change {
            Change::Differs(path, text) | Change::Missing(path, text) => {
                write_atomically(path, text)
            }
            Change::Extra(path) => fs::remove_file(path),
        };
        if let Err(e) = done {
            let path = match change {
                Change::Differs(p, _) | Change::Missing(p, _) | Change::Extra(p) => p,
            };
            let safe = match &backup_src {
                Some(b) => format!(
                    "; your whole version is safe in {}. To go back to it: {restore}",
                    shown(root, b)
                ),
                None => String::new(),
            };
            return Err(format!(
                "could not reset {}: {e}. {shown_src} may now be part stubs, part yours{safe}",
                shown(root, path)
            ));
        }
    }
    let hints = match hint::forget(root, lab.meta.number) {
        Ok(true) => format!(
            "The hints of {} start again from the first step (`cargo xtask hint {} TEST --all` \
             shows a test's hints at once).",
            lab.label(),
            lab.meta.number
        ),
        Ok(false) => String::new(),
        Err(e) => format!("(The hints shown so far are still counted: {e}.)"),
    };

    let removed = changes
        .iter()
        .filter(|c| matches!(c, Change::Extra(_)))
        .count();
    let mut done = format!("{} put back", plural(changes.len() - removed, "stub"));
    if removed > 0 {
        done.push_str(&format!(", {} removed", plural(removed, "file")));
    }
    println!();
    println!("{} is reset: {done}.", lab.label());
    if let Some(b) = &backup_src {
        println!("Your version is in {}", shown(root, b));
        println!("To get it back:    {restore}");
        println!("(or copy single files back from it)");
    }
    if !hints.is_empty() {
        println!("{hints}");
    }
    Ok(0)
}

/// What a reset would change: the stub files that differ or are missing, and extra `.rs` files.
fn plan(lab: &Lab) -> Result<Vec<Change>, String> {
    let expected = stubs::expected(lab)?;
    let mut changes = Vec::new();
    for (path, text) in &expected {
        match fs::read(path) {
            Ok(bytes) if bytes == text.as_bytes() => {}
            Ok(_) => changes.push(Change::Differs(path.clone(), text.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                changes.push(Change::Missing(path.clone(), text.clone()));
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
    }
    let mut present = Vec::new();
    collect_files(&lab.lab_dir.join("src"), &mut present)?;
    present.sort();
    for path in present {
        let is_rs = path.extension().is_some_and(|e| e == "rs");
        if is_rs && !expected.iter().any(|(p, _)| *p == path) {
            changes.push(Change::Extra(path));
        }
    }
    Ok(changes)
}

/// Copies the lab's whole `src/` to `backups/NN-name-<UTC time>/src` under `root`, reads the copy
/// back to check it, and returns the backup's folder. The copy is made under a temporary name and
/// renamed when complete, so a backup folder that exists is a whole one. On any failure, what was
/// copied is removed and the error says that nothing was changed.
fn back_up(root: &Path, lab: &Lab) -> Result<PathBuf, String> {
    let name = lab
        .lab_dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let backups = root.join("backups");
    let stamp = utc_stamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let mut target = backups.join(format!("{name}-{stamp}"));
    let mut n = 2;
    while target.exists() {
        target = backups.join(format!("{name}-{stamp}-{n}"));
        n += 1;
    }
    let partial = backups.join(format!(
        ".{}.partial",
        target.file_name().unwrap_or_default().to_string_lossy()
    ));
    let copied = (|| -> Result<(), String> {
        fs::create_dir_all(&backups)
            .map_err(|e| format!("cannot create {}: {e}", backups.display()))?;
        let _ = fs::remove_dir_all(&partial);
        copy_tree(&lab.lab_dir.join("src"), &partial.join("src"))?;
        fs::rename(&partial, &target)
            .map_err(|e| format!("cannot rename {}: {e}", partial.display()))
    })();
    if let Err(e) = copied {
        let _ = fs::remove_dir_all(&partial);
        return Err(format!(
            "could not back up {}: {e}\nNothing was changed: your files are as they were. Free \
             some disk space or fix the permissions of {}, then run the reset again.",
            shown(root, &lab.lab_dir.join("src")),
            shown(root, &backups)
        ));
    }
    Ok(target)
}

/// Copies every file under `from` to `to`, and checks each copy byte for byte.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let (source, copy) = (entry.path(), to.join(entry.file_name()));
        if source.is_dir() {
            copy_tree(&source, &copy)?;
            continue;
        }
        let bytes =
            fs::read(&source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
        fs::write(&copy, &bytes).map_err(|e| format!("cannot write {}: {e}", copy.display()))?;
        match fs::read(&copy) {
            Ok(back) if back == bytes => {}
            _ => return Err(format!("the copy {} does not read back", copy.display())),
        }
    }
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Writes `text` to a temporary file next to `path`, then renames it over `path`: a crash leaves
/// the old file or the new one, never half of one.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(".{name}.reset-{}", std::process::id()));
    fs::write(&temporary, text)?;
    fs::rename(&temporary, path).inspect_err(|_| {
        let _ = fs::remove_file(&temporary);
    })
}

/// `path` as the learner should type it: relative to the current folder when it is inside it (as
/// when `cargo xtask` runs at the course's root), absolute otherwise.
fn shown(root: &Path, path: &Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok());
    let base = cwd
        .as_deref()
        .filter(|d| path.starts_with(d) && root.starts_with(d));
    match base.and_then(|d| path.strip_prefix(d).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// `20241127-193012Z`: a UTC time that sorts as text in time order.
fn utc_stamp(secs: u64) -> String {
    let days = secs / 86400;
    let rest = secs % 86400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (counting in 400-year eras, each
/// 146097 days long, with years starting on March 1st so that the leap day comes last).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::utc_stamp;
    use crate::text::sh_quote;

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(sh_quote("labs/01-refcount/src"), "labs/01-refcount/src");
        assert_eq!(sh_quote("/home/a b/src"), "'/home/a b/src'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn stamps_are_utc_dates_and_times() {
        assert_eq!(utc_stamp(0), "19700101-000000Z");
        // 2000-02-29 (a leap day in a century year) 12:34:56.
        assert_eq!(utc_stamp(951_827_696), "20000229-123456Z");
        // 2024-11-27 19:30:12.
        assert_eq!(utc_stamp(1_732_735_812), "20241127-193012Z");
        // 2100-03-01, the day after a century year that is not a leap year.
        assert_eq!(utc_stamp(4_107_542_400), "21000301-000000Z");
    }
}
