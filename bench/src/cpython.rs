//! CPython as a peer: its collector through `python3` (the same graphs and programs, in Python),
//! and its allocator, obmalloc, called directly from libpython, loaded at run time.
//!
//! When no `python3` is found, or it cannot be run, the table says so in CPython's row.

use std::ffi::{CStr, CString, c_void};
use std::process::Command;

use serde_json::Value;

use crate::output::{Measured, Outcome};

/// Workload C in Python: builds the graph named on the command line, every node a list and every
/// edge an `append`, drops all but the roots, and times one `gc.collect()`. Prints JSON.
const WORKLOAD_C: &str = r#"
import gc, json, sys, time
name, n = sys.argv[1], int(sys.argv[2])
gc.disable()
def build():
    if name == "a_pairs":
        for _ in range(n):
            x = []; y = []
            x.append(y); y.append(x)
        return [], 2 * n
    if name == "b_ring":
        nodes = [[] for _ in range(n)]
        for i in range(n):
            nodes[i].append(nodes[(i + 1) % n])
        return [], n
    if name == "c_live":
        root = []
        live = []
        for i in range(n):
            live.append([])
            if i % 10 == 0:
                x = []; y = []
                x.append(y); y.append(x)
        for node in live:
            root.append(node)
        for i in range(n):
            live[i].append(live[(i + 1) % n])
        return [root], 2 * ((n + 9) // 10)
    if name == "d_random":
        nodes = [[] for _ in range(n)]
        x = 0x2545F4914F6CDD1D
        mask = (1 << 64) - 1
        for node in nodes:
            for _ in range(3):
                x ^= (x << 13) & mask
                x ^= x >> 7
                x ^= (x << 17) & mask
                node.append(nodes[(x >> 32) % n])
        return [nodes[0]], None
    raise SystemExit("unknown graph " + name)
gc.collect()
roots, garbage = build()
start = time.perf_counter()
found = gc.collect()
elapsed = time.perf_counter() - start
del roots
gc.collect()
print(json.dumps({"value": elapsed * 1e3, "found": found, "garbage": garbage,
                  "version": sys.version.split()[0]}))
"#;

/// Workload G in Python: the program named on the command line, 1,000,000 iterations (or as
/// given), timed by `gc.callbacks` between each collection's "start" and "stop".
const WORKLOAD_G: &str = r#"
import gc, json, sys, time
name, n = sys.argv[1], int(sys.argv[2])
gc.set_threshold(700, 10, 10)
gc.collect()
counts = [0, 0, 0]
spent = [0.0, 0.0, 0.0]
def cb(phase, info):
    if phase == "start":
        spent[1] = time.perf_counter()
    else:
        pause = time.perf_counter() - spent[1]
        spent[0] += pause
        spent[2] = max(spent[2], pause)
        counts[info["generation"]] += 1
gc.callbacks.append(cb)
if name == "grow_live":
    root = []
    for i in range(n):
        root.append([])
    del root
else:
    for i in range(n):
        a = []
        b = [a]
        a.append(b)
    del a, b
gc.callbacks.remove(cb)
print(json.dumps({"value": spent[0] * 1e3, "longest_ms": spent[2] * 1e3,
                  "collections": counts, "version": sys.version.split()[0]}))
"#;

/// Runs `script` in `python3` with `args`, and reads the JSON object it prints.
fn python(script: &str, args: &[String]) -> Result<Value, String> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .map_err(|e| format!("no python3 here ({e})"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "python3 failed: {}",
            stderr.lines().last().unwrap_or("").trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).map_err(|e| format!("python3 printed no result ({e})"))
}

/// `gc.collect()` on workload C's graph `name` of size `n`.
pub fn collect(name: &str, n: usize) -> Outcome {
    match python(WORKLOAD_C, &[name.to_string(), n.to_string()]) {
        Ok(result) => {
            let value = result["value"].as_f64().unwrap_or(f64::NAN);
            let found = result["found"].as_u64();
            let expected = result["garbage"].as_u64();
            if let (Some(found), Some(expected)) = (found, expected)
                && found != expected
            {
                return Outcome::Absent(format!(
                    "wrong: gc.collect() returned {found}, expected {expected}"
                ));
            }
            Outcome::Measured(Measured {
                value,
                note: result["version"].as_str().map(|v| format!("CPython {v}")),
                ..Measured::default()
            })
        }
        Err(why) => Outcome::Absent(why),
    }
}

/// Workload G's program `name`, `n` iterations: the time in the collector.
pub fn generations(name: &str, n: usize) -> Outcome {
    match python(WORKLOAD_G, &[name.to_string(), n.to_string()]) {
        Ok(result) => {
            let counts: Vec<String> = result["collections"]
                .as_array()
                .map(|counts| counts.iter().map(|c| c.to_string()).collect())
                .unwrap_or_default();
            Outcome::Measured(
                Measured {
                    value: result["value"].as_f64().unwrap_or(f64::NAN),
                    note: result["version"]
                        .as_str()
                        .map(|v| format!("CPython {v}, collections {}", counts.join("/"))),
                    ..Measured::default()
                }
                .with(
                    "longest pause (ms)",
                    result["longest_ms"].as_f64().unwrap_or(f64::NAN),
                ),
            )
        }
        Err(why) => Outcome::Absent(why),
    }
}

/// CPython's obmalloc, from the libpython of the `python3` found here: `PyObject_Malloc` and
/// `PyObject_Free`, called through function pointers, as a C harness would call them.
pub struct Obmalloc {
    malloc: unsafe extern "C" fn(usize) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void),
    /// `"3.11.7"`.
    pub version: String,
}

impl Obmalloc {
    /// Loads libpython and starts an interpreter in this process (3.12 and later need one for
    /// `PyObject_Malloc`; with 3.11 it is harmless), or says why it cannot.
    pub fn load() -> Result<Obmalloc, String> {
        let output = Command::new("python3")
            .arg("-c")
            .arg(
                "import sys, sysconfig as s; print(s.get_config_var('LIBDIR')); \
                 print(s.get_config_var('LDLIBRARY')); print(sys.version.split()[0])",
            )
            .output()
            .map_err(|e| format!("no python3 here ({e})"))?;
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        let mut lines = text.lines();
        let (Some(dir), Some(file), Some(version)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err("python3 did not say where its library is".to_string());
        };
        if !file.ends_with(".so") && !file.contains(".so.") {
            return Err(format!("python3 has no shared library ({file})"));
        }
        let path = CString::new(format!("{dir}/{file}")).map_err(|e| e.to_string())?;
        // SAFETY: dlopen with a valid C string; the library stays loaded for the process's life.
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            return Err(format!("{dir}/{file} could not be loaded"));
        }
        let symbol = |name: &CStr| {
            // SAFETY: dlsym on a live handle with a valid C string.
            let found = unsafe { libc::dlsym(handle, name.as_ptr()) };
            (!found.is_null())
                .then_some(found)
                .ok_or_else(|| format!("{} not found in libpython", name.to_string_lossy()))
        };
        let initialize = symbol(c"Py_InitializeEx")?;
        let malloc = symbol(c"PyObject_Malloc")?;
        let free = symbol(c"PyObject_Free")?;
        // SAFETY: these are libpython's exported functions, with these C signatures
        // (`void Py_InitializeEx(int)`, `void *PyObject_Malloc(size_t)`,
        // `void PyObject_Free(void *)`).
        let (initialize, malloc, free) = unsafe {
            (
                std::mem::transmute::<*mut c_void, unsafe extern "C" fn(i32)>(initialize),
                std::mem::transmute::<*mut c_void, unsafe extern "C" fn(usize) -> *mut c_void>(
                    malloc,
                ),
                std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void)>(free),
            )
        };
        // SAFETY: the interpreter is started once, without signal handlers, on this thread,
        // which then holds the GIL that obmalloc's callers must hold.
        unsafe { initialize(0) };
        Ok(Obmalloc {
            malloc,
            free,
            version: version.to_string(),
        })
    }

    /// `PyObject_Malloc(size)`.
    #[inline]
    pub fn malloc(&self, size: usize) -> *mut u8 {
        // SAFETY: PyObject_Malloc accepts any size; this thread holds the GIL.
        unsafe { (self.malloc)(size) }.cast()
    }

    /// `PyObject_Free(p)`.
    ///
    /// # Safety
    /// `p` came from [`malloc`](Obmalloc::malloc) and is freed once.
    #[inline]
    pub unsafe fn free(&self, p: *mut u8) {
        // SAFETY: the caller's promise; this thread holds the GIL.
        unsafe { (self.free)(p.cast()) }
    }
}
