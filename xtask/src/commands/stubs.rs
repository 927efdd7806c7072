//! `cargo xtask stubs`: regenerate the stubs in `labs/*/src` from the solutions (for maintainers).

use std::fs;
use std::path::Path;

use crate::course::labs::Lab;
use crate::course::stubs::expected;

/// `cargo xtask stubs`: writes the generated stubs. A file that would change is first copied to
/// `target/gclabs-backups/<time>/`, so no work is ever lost.
pub fn write(root: &Path, labs: &[Lab]) -> Result<(), String> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let backup_root = root
        .join("target")
        .join("gclabs-backups")
        .join(stamp.to_string());
    for lab in labs {
        for (path, text) in expected(lab)? {
            let old = fs::read_to_string(&path).ok();
            if old.as_deref() == Some(text.as_str()) {
                continue;
            }
            if let Some(old) = old {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let backup = backup_root.join(rel);
                if let Some(parent) = backup.parent() {
                    fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                fs::write(&backup, old)
                    .map_err(|e| format!("cannot back up {}: {e}", path.display()))?;
                println!("backed up {} to {}", rel.display(), backup.display());
            }
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
