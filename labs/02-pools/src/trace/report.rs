//! What a replay measured: utilisation (from [`replay_checked`](super::replay_checked)) and
//! throughput (from [`replay_timed`](super::replay_timed)).

use std::fmt;
use std::time::Duration;

// ANCHOR: report_struct
/// What [`replay_checked`](super::replay_checked) measured.
///
/// *Utilisation* is how much of the memory an allocator held was payload, at the worst moment
/// for each: the peak of the live payload over the peak of the footprint. 1.0 would mean no byte
/// wasted (no headers, no rounding up to a size class, no half-empty pool, no free block kept
/// for later); a bump arena that never frees is near 1.0 until its first free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// How many operations were replayed.
    pub ops: usize,
    /// The largest sum of the requested sizes of the live blocks, after any step.
    pub peak_live_bytes: usize,
    /// The largest [`footprint`](crate::Allocator::footprint) after any step, if the allocator
    /// tells its footprint.
    pub peak_footprint: Option<usize>,
    /// `peak_live_bytes / peak_footprint`, if there is a footprint and it is not 0.
    pub utilisation: Option<f64>,
}
// ANCHOR_END: report_struct

impl Report {
    /// A report of `ops` operations with these peaks; computes the utilisation.
    pub fn new(ops: usize, peak_live_bytes: usize, peak_footprint: Option<usize>) -> Report {
        Report {
            ops,
            peak_live_bytes,
            peak_footprint,
            utilisation: utilisation(peak_live_bytes, peak_footprint),
        }
    }
}

/// The peak live payload over the peak footprint, or `None` if the allocator does not tell its
/// footprint or it was 0 (a trace that allocated nothing).
pub fn utilisation(peak_live_bytes: usize, peak_footprint: Option<usize>) -> Option<f64> {
    // TODO: peak_live_bytes over peak_footprint as an f64; None when there is no footprint, or it
    //       is 0
    todo!()
}

/// Nanoseconds per operation: the throughput of a timed replay of `ops` operations.
pub fn ns_per_op(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_secs_f64() * 1e9 / ops.max(1) as f64
}

/// `1,234 ops, peak live 12,345 B, peak footprint 65,536 B, utilisation 18.8%`.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ops, peak live {} B",
            thousands(self.ops),
            thousands(self.peak_live_bytes)
        )?;
        match self.peak_footprint {
            Some(footprint) => write!(f, ", peak footprint {} B", thousands(footprint))?,
            None => write!(f, ", footprint unknown")?,
        }
        match self.utilisation {
            Some(u) => write!(f, ", utilisation {:.1}%", 100.0 * u),
            None => Ok(()),
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
