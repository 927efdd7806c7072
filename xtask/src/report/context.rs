//! What a format needs to know beyond the results, decided by the command that renders them.

/// What a format needs to know beyond the results.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Whose work was graded, for the heading: `your work in labs/`, `the submission in DIR`.
    pub whose: String,
    /// The options a suggested command repeats to grade the same work the same way (` --root
    /// DIR --pristine`), each with a leading space; empty for the learner's own checkout.
    pub same_work: String,
    /// Every failing test's output, not only the next one's.
    pub verbose: bool,
    /// Whether the reader sees ANSI colours.
    pub color: bool,
    /// Whether the measurements were asked for (a lab that failed a test says it is measured
    /// once it passes).
    pub measured: bool,
}
