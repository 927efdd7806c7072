//! The cap on how many processes (and threads) a graded test may run at once.
//!
//! A test that forks without end must cost that test, not the machine. Two mechanisms can cap it,
//! and the grader uses the first that works here:
//!
//! 1. **A pids cgroup** (cgroup v2, or the v1 `pids` controller): each test gets its own child
//!    cgroup with `pids.max` set to the cap; the test process joins it between fork and exec, so
//!    everything it starts is counted, and afterwards every process left in the cgroup is killed,
//!    even one that left the test's process group. This works for root too, where the grader may
//!    create cgroups (a container that mounts the hierarchy read-write, a CI runner, Gradescope
//!    when it allows it).
//! 2. **`RLIMIT_NPROC`**, when the tests run as a user other than root (always, unless
//!    `GCLABS_TEST_USER=root`: see `identity.rs`): it counts every process and thread of the user,
//!    so the limit is set to what the user already runs plus the cap. The kernel does not apply it
//!    to root (nor to a process with CAP_SYS_RESOURCE or CAP_SYS_ADMIN).
//!
//! Tests run as root without a writable pids cgroup have **no cap**: the time limit then ends a
//! fork bomb after the test's time limit, if the machine keeps up. `cargo xtask limits` says which
//! case applies here.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How the cap is enforced on this machine.
#[derive(Debug, Clone)]
pub enum Mechanism {
    /// A child cgroup per test under `parent`.
    Cgroup {
        /// The grader's own pids cgroup, where per-test cgroups are made.
        parent: PathBuf,
        /// 1 or 2.
        version: u8,
    },
    /// `RLIMIT_NPROC` (the user is not root).
    Rlimit,
    /// Not enforced, and why.
    None {
        /// The reason, for `cargo xtask limits`.
        why: String,
    },
}

impl Mechanism {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Mechanism::Cgroup { parent, version } => format!(
                "enforced by a pids cgroup per test (cgroup v{version}, under {}); whatever a \
                 test leaves running is killed with its cgroup",
                parent.display()
            ),
            Mechanism::Rlimit => "enforced by RLIMIT_NPROC, which counts every process and \
                                  thread of the user the tests run as: the limit is what that \
                                  user already runs plus the cap"
                .into(),
            Mechanism::None { why } => format!("NOT enforced on this machine: {why}"),
        }
    }
}

/// The mechanism, found once per run.
pub fn mechanism() -> &'static Mechanism {
    static FOUND: OnceLock<Mechanism> = OnceLock::new();
    FOUND.get_or_init(probe)
}

fn probe() -> Mechanism {
    let mut notes = Vec::new();
    for (parent, version) in pids_cgroups() {
        clean_stale(&parent);
        let probe = parent.join(format!("gclabs-{}-probe", std::process::id()));
        let ok = fs::create_dir(&probe).is_ok()
            && fs::write(probe.join("pids.max"), "8").is_ok()
            && probe.join("cgroup.procs").exists();
        let _ = fs::remove_dir(&probe);
        if ok {
            return Mechanism::Cgroup { parent, version };
        }
        notes.push(format!(
            "cannot create a cgroup with pids.max under {}",
            parent.display()
        ));
    }
    // The tests' user (`identity.rs`) is root only when the grader is root and was told to keep it.
    if crate::run::identity::run_as().uid() != 0 {
        return Mechanism::Rlimit;
    }
    if notes.is_empty() {
        notes.push("no pids cgroup controller is mounted".into());
    }
    Mechanism::None {
        why: format!(
            "the tests run as root (GCLABS_TEST_USER=root), where the kernel ignores RLIMIT_NPROC, and {}",
            notes.join("; ")
        ),
    }
}

/// The grader's own cgroup in each mounted hierarchy that has the pids controller.
fn pids_cgroups() -> Vec<(PathBuf, u8)> {
    let Ok(mountinfo) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let Ok(membership) = fs::read_to_string("/proc/self/cgroup") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for line in mountinfo.lines() {
        // `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS`
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = left.split(' ').collect();
        let theirs: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(mount), Some(fstype)) =
            (fields.get(3), fields.get(4), theirs.first())
        else {
            continue;
        };
        let mount = PathBuf::from(unescape(mount));
        let own = match *fstype {
            "cgroup2" => membership
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .map(|p| (p.to_string(), 2)),
            "cgroup"
                if theirs
                    .get(2)
                    .is_some_and(|o| o.split(',').any(|o| o == "pids")) =>
            {
                membership.lines().find_map(|l| {
                    let mut parts = l.splitn(3, ':');
                    let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                    controllers
                        .split(',')
                        .any(|c| c == "pids")
                        .then(|| (path.to_string(), 1))
                })
            }
            _ => None,
        };
        let Some((path, version)) = own else {
            continue;
        };
        let relative = path.strip_prefix(*root).unwrap_or(&path);
        let relative = relative.trim_start_matches('/');
        let dir = if relative.is_empty() {
            mount
        } else {
            mount.join(relative)
        };
        if version == 2 {
            // Children of this cgroup get pids.max only if the controller is delegated to them.
            let delegated = fs::read_to_string(dir.join("cgroup.subtree_control"))
                .is_ok_and(|c| c.split_whitespace().any(|c| c == "pids"));
            if !delegated {
                continue;
            }
        }
        found.push((dir, version));
    }
    // cgroup v2 first: it has cgroup.kill and is where hosts are going.
    found.sort_by_key(|(_, v)| std::cmp::Reverse(*v));
    found
}

/// Mount points escape spaces and a few other bytes as octal (`\040`).
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes the per-test cgroups that graders which no longer run left behind (killed, say).
fn clean_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("gclabs-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// The cap for one test process.
pub struct Cap {
    cgroup: Option<PathBuf>,
    procs: Option<CString>,
    nproc: Option<u64>,
}

impl Cap {
    /// Prepares a cap of `max` processes and threads for the next process started.
    pub fn new(max: u32) -> Result<Cap, String> {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        match mechanism() {
            Mechanism::Cgroup { parent, .. } => {
                let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
                let dir = parent.join(format!("gclabs-{}-{n}", std::process::id()));
                let made = fs::create_dir(&dir)
                    .and_then(|()| fs::write(dir.join("pids.max"), max.to_string()));
                if let Err(e) = made {
                    let _ = fs::remove_dir(&dir);
                    return Err(format!(
                        "could not make the test's pids cgroup {}: {e}",
                        dir.display()
                    ));
                }
                let procs = CString::new(dir.join("cgroup.procs").as_os_str().as_bytes())
                    .map_err(|_| format!("the cgroup path {} holds a NUL byte", dir.display()))?;
                Ok(Cap {
                    cgroup: Some(dir),
                    procs: Some(procs),
                    nproc: None,
                })
            }
            Mechanism::Rlimit => Ok(Cap {
                cgroup: None,
                procs: None,
                nproc: Some(user_tasks() + u64::from(max)),
            }),
            Mechanism::None { .. } => Ok(Cap {
                cgroup: None,
                procs: None,
                nproc: None,
            }),
        }
    }

    /// What the child must do between fork and exec: join this cgroup (its `cgroup.procs`), and
    /// set this `RLIMIT_NPROC`.
    pub fn for_child(&self) -> (Option<CString>, Option<u64>) {
        (self.procs.clone(), self.nproc)
    }

    /// After the test: kills whatever is left in the cgroup, removes it, and says whether the test
    /// reached the cap (a fork failed for it). Without a cgroup, nothing is known: `false`.
    pub fn finish(self) -> bool {
        let Some(dir) = &self.cgroup else {
            return false;
        };
        let hit = fs::read_to_string(dir.join("pids.events")).is_ok_and(|events| {
            events.lines().any(|l| {
                l.strip_prefix("max ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .is_some_and(|n| n > 0)
            })
        });
        if fs::write(dir.join("cgroup.kill"), "1").is_err() {
            for _ in 0..200 {
                let pids = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                let pids: Vec<libc::pid_t> =
                    pids.lines().filter_map(|l| l.trim().parse().ok()).collect();
                if pids.is_empty() {
                    break;
                }
                for pid in pids {
                    // SAFETY: kill has no memory-safety preconditions; the pid was in the test's
                    // cgroup a moment ago, and ESRCH is harmless.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // A killed process leaves its cgroup a moment after the signal.
        for _ in 0..200 {
            if fs::remove_dir(dir).is_ok() || !dir.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        hit
    }
}

/// Run in the child between fork and exec: writes its pid into `procs` (a `cgroup.procs`), which
/// moves it into that cgroup. Only async-signal-safe calls: getpid, open, write, close.
pub fn join(procs: &CString) -> std::io::Result<()> {
    // SAFETY: getpid has no preconditions.
    let mut pid = unsafe { libc::getpid() } as u64;
    let mut digits = [0u8; 24];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (pid % 10) as u8;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    // SAFETY: `procs` is a valid NUL-terminated path that outlives the call.
    let fd = unsafe { libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let text = &digits[at..];
    // SAFETY: `text` is valid for `text.len()` bytes; `fd` is open.
    let written = unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) };
    let error = std::io::Error::last_os_error();
    // SAFETY: `fd` is open and closed once.
    unsafe {
        libc::close(fd);
    }
    if written == text.len() as isize {
        Ok(())
    } else {
        Err(error)
    }
}

/// How many processes and threads the tests' user runs now (what RLIMIT_NPROC counts).
fn user_tasks() -> u64 {
    tasks_of(crate::run::identity::run_as().uid())
}

/// How many processes and threads user `uid` runs now.
fn tasks_of(uid: libc::uid_t) -> u64 {
    let uid = uid.to_string();
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(status) = fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let real_uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next());
        if real_uid == Some(uid.as_str()) {
            total += status
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(1);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_are_unescaped() {
        assert_eq!(unescape("/sys/fs/cgroup/a\\040b"), "/sys/fs/cgroup/a b");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/end\\04"), "/end\\04");
    }

    #[test]
    fn this_user_runs_at_least_this_process() {
        // SAFETY: getuid has no preconditions and cannot fail.
        assert!(tasks_of(unsafe { libc::getuid() }) >= 1);
    }
}
