//! ANSI styling for text meant for people, on only where they see it (a terminal, without
//! `NO_COLOR`): the report and `cargo xtask list` share it.

/// Paints text when `on`; leaves it as it is otherwise.
pub struct Style {
    /// Whether to paint.
    pub on: bool,
}

impl Style {
    /// Styling for stdout: on when it is a terminal and `NO_COLOR` is not set.
    pub fn for_stdout() -> Style {
        use std::io::IsTerminal;
        Style {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
    /// `text` in the SGR style `code` (`1` bold, `31` red, `1;31` both).
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    /// Bold.
    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    /// Green: what passes.
    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    /// Red: what fails.
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    /// Dim: what is not started, or asides.
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
}
