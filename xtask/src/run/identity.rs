//! Who runs the graded tests: never the grader's own root.
//!
//! A learner's code runs in every test process. Run with the grader's rights, it could signal the
//! grader (kill it, and leave a results file of its own making behind), write where the grader
//! writes (the results, the course's tests, `lab.toml`, the other test binaries), and so forge a
//! grade. A process of another, unprivileged user can do none of that: the kernel refuses its
//! signals to the grader and its writes to files it does not own.
//!
//! So when the grader runs as root (as on Gradescope, in CI runners, in most containers), each test
//! process gives up root between fork and exec and runs as an unprivileged user:
//! `$GCLABS_TEST_USER` when set (a name or a number; `root` keeps root, at the instructor's own
//! risk), else `gclabs-test` when it exists (the Gradescope bundle's `setup.sh` creates it), else
//! `nobody`, else uid and gid 65534 (nobody's usual number, which needs no entry in
//! `/etc/passwd`). The test binary is executed from a file descriptor the grader opened, so the
//! user needs no right to the folders above it (a checkout under `/root`, say), only to the file
//! itself; the test starts in the lab's folder, entered while still root.
//!
//! A grader that is not root runs its tests as itself: no user can give its processes to another.
//! Grading other people's code that way gives that code the instructor's rights (see
//! docs/classroom.md: use a container, as root).

use std::ffi::CString;
use std::sync::OnceLock;

/// The user the test processes run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    /// The grader's own user (the grader is not root, or `GCLABS_TEST_USER=root`).
    Grader {
        /// Whether that user is root (only when asked for with `GCLABS_TEST_USER=root`).
        root: bool,
    },
    /// An unprivileged user that root switches to before each test.
    User {
        /// Its name, or `uid N` when it has none.
        name: String,
        /// Its user id.
        uid: libc::uid_t,
        /// Its primary group id.
        gid: libc::gid_t,
    },
}

impl RunAs {
    /// The user id the tests run as.
    pub fn uid(&self) -> libc::uid_t {
        match self {
            // SAFETY: getuid has no preconditions and cannot fail.
            RunAs::Grader { .. } => unsafe { libc::getuid() },
            RunAs::User { uid, .. } => *uid,
        }
    }

    /// One line for people (`cargo xtask limits`).
    pub fn describe(&self) -> String {
        match self {
            RunAs::Grader { root: false } => "as you (the grader is not root, so it cannot hand \
                                              them to another user)"
                .into(),
            RunAs::Grader { root: true } => "as root, because GCLABS_TEST_USER=root: a test can \
                                             signal the grader and write anywhere. Do not grade \
                                             other people's code this way"
                .into(),
            RunAs::User { name, uid, gid } => format!(
                "as {name} (uid {uid}, gid {gid}), not as root: a test can neither signal the \
                 grader nor write to the course, the build or the results"
            ),
        }
    }
}

/// Who runs the tests here, found once per run.
pub fn run_as() -> &'static RunAs {
    static FOUND: OnceLock<RunAs> = OnceLock::new();
    FOUND.get_or_init(|| {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        choose(
            euid,
            std::env::var("GCLABS_TEST_USER").ok().as_deref(),
            lookup,
        )
    })
}

/// The choice, given the grader's effective uid, `$GCLABS_TEST_USER` and a way to look a user
/// up by name: (uid, gid) of a user other than root.
fn choose(
    euid: libc::uid_t,
    wanted: Option<&str>,
    lookup: impl Fn(&str) -> Option<(libc::uid_t, libc::gid_t)>,
) -> RunAs {
    if euid != 0 {
        return RunAs::Grader { root: false };
    }
    let wanted = wanted.map(str::trim).filter(|w| !w.is_empty());
    if wanted == Some("root") || wanted == Some("0") {
        return RunAs::Grader { root: true };
    }
    let names: Vec<&str> = match wanted {
        Some(name) => vec![name],
        None => vec!["gclabs-test", "nobody"],
    };
    for name in names {
        if let Some((uid, gid)) = lookup(name).filter(|(uid, _)| *uid != 0) {
            return RunAs::User {
                name: name.to_string(),
                uid,
                gid,
            };
        }
        if let Ok(uid) = name.parse::<libc::uid_t>() {
            return RunAs::User {
                name: format!("uid {uid}"),
                uid,
                gid: uid,
            };
        }
    }
    RunAs::User {
        name: match wanted {
            Some(name) => format!("uid 65534 (GCLABS_TEST_USER={name} names no user here)"),
            None => "uid 65534".into(),
        },
        uid: 65534,
        gid: 65534,
    }
}

/// The (uid, gid) of user `name`, from the system's user database.
fn lookup(name: &str) -> Option<(libc::uid_t, libc::gid_t)> {
    let name = CString::new(name).ok()?;
    let mut buffer = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: an all-zero passwd is a valid value for getpwnam_r to overwrite.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call: `name` is NUL-terminated, `entry` and `found`
    // are live locals, and `buffer` is writable for the length given.
    let status = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    (status == 0 && !found.is_null()).then_some((entry.pw_uid, entry.pw_gid))
}

/// Run in the child between fork and exec, after everything that needs root (joining the
/// test's cgroup): gives up root for `uid` and `gid`, supplementary groups included. Only
/// async-signal-safe calls: setgroups, setgid, setuid.
pub fn become_user(uid: libc::uid_t, gid: libc::gid_t) -> std::io::Result<()> {
    // SAFETY: setgroups with a count of 0 reads no memory; setgid and setuid have no
    // memory-safety preconditions.
    let failed = unsafe {
        libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
    };
    if failed {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(name: &str) -> Option<(libc::uid_t, libc::gid_t)> {
        match name {
            "nobody" => Some((65534, 65534)),
            "gclabs-test" => Some((990, 990)),
            "toor" => Some((0, 0)),
            _ => None,
        }
    }

    #[test]
    fn a_grader_that_is_not_root_runs_tests_as_itself() {
        assert_eq!(choose(1000, None, users), RunAs::Grader { root: false });
        assert_eq!(
            choose(1000, Some("nobody"), users),
            RunAs::Grader { root: false }
        );
    }

    #[test]
    fn root_prefers_the_courses_own_user_then_nobody() {
        assert_eq!(
            choose(0, None, users),
            RunAs::User {
                name: "gclabs-test".into(),
                uid: 990,
                gid: 990
            }
        );
        let no_course_user = |n: &str| if n == "nobody" { users(n) } else { None };
        assert_eq!(choose(0, None, no_course_user).uid(), 65534);
        // Not even nobody: its usual number, which needs no entry in /etc/passwd.
        assert_eq!(choose(0, None, |_| None).uid(), 65534);
    }

    #[test]
    fn gclabs_test_user_names_the_user_or_its_number() {
        assert_eq!(choose(0, Some("nobody"), users).uid(), 65534);
        assert_eq!(choose(0, Some("4242"), users).uid(), 4242);
        assert_eq!(choose(0, Some("root"), users), RunAs::Grader { root: true });
    }

    #[test]
    fn a_user_with_uid_zero_is_never_chosen() {
        assert_ne!(choose(0, Some("toor"), users).uid(), 0);
    }
}
