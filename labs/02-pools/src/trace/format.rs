//! Reading and writing the trace format (described in the [module docs](super)).

use std::fmt;

use super::{Op, Trace};

/// Why a trace could not be read: the line (counted from 1) and what was wrong there, saying
/// what was expected. Shown as `line 3: `f` takes one id, as in `f 7``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line of the text, counted from 1.
    pub line: usize,
    /// What was wrong and what was expected, as a sentence without the line number.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// How each operation is written, for the error messages: `Some(usage)` for the three letters
/// of the format, `None` for anything else.
pub(super) fn usage(letter: &str) -> Option<&'static str> {
    match letter {
        "a" => Some("`a` takes an id and a size, as in `a 7 64`"),
        "f" => Some("`f` takes one id, as in `f 7`"),
        "r" => Some("`r` takes an id and a new size, as in `r 7 128`"),
        _ => None,
    }
}

/// Reads one field as a whole number; `what` is `"id"` or `"size"`, for the error message.
pub(super) fn number(field: &str, what: &str) -> Result<usize, String> {
    field.parse().map_err(|_| {
        format!("`{field}` is not a valid {what}: expected a whole number, as in `a 7 64`")
    })
}

impl Trace {
    /// Reads a trace in the text format of the [module docs](super), checking that every id is
    /// allocated only when it is not live and freed or resized only when it is.
    ///
    /// Each line, once its comment (from `#` on) is cut off, is blank or one operation. The
    /// helpers `usage` and `number` (in this file) word the usual errors.
    pub fn parse(name: &str, text: &str) -> Result<Trace, ParseError> {
        // TODO: Ok with one Op per operation line, in order (what follows # is a comment, blank
        //       lines are skipped); otherwise the ParseError of the first bad line (numbered from
        //       1): an unknown letter, the wrong number of fields, a field that is not a whole
        //       number, allocating an id that is live, or freeing or resizing one that is not
        todo!()
    }

    /// Writes the trace in the text format, one operation a line after a comment naming it, so
    /// that `Trace::parse(&t.name, &t.to_text())` gives `t` back.
    pub fn to_text(&self) -> String {
        let name = self.name.replace(['\n', '\r'], " ");
        let mut text = format!("# {name}: {} operations\n", self.ops.len());
        for line in self.ops.iter().map(Op::to_string) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    }
}
