//! Layer 4, report: results in, text out.
//!
//! Each format takes a [`Grade`] (the grade layer's results, with every shared decision made) and a
//! small [`Context`], and returns text; none of them sees the command line, prints, or writes a
//! file (the `grade` command does). The formats are listed once, in [`Format`].

pub mod context;
pub mod gradescope;
pub mod human;
pub mod json;
pub mod junit;
pub mod progress;
#[cfg(test)]
pub mod sample;
pub mod style;

pub use context::Context;

use crate::grade::Grade;

/// The output formats of `cargo xtask grade --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// The report for people: per lab, per test, the total and the next step.
    #[default]
    Human,
    /// One JSON object per line: one per test, per measurement and per changed graded file.
    Json,
    /// Gradescope's results.json: score, output, and one entry per graded test.
    Gradescope,
    /// JUnit XML for CI: one testsuite per lab, one testcase per graded test.
    Junit,
}

impl Format {
    /// Every format, in the order the help lists them.
    pub const ALL: [Format; 4] = [
        Format::Human,
        Format::Json,
        Format::Gradescope,
        Format::Junit,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Gradescope => "gradescope",
            Format::Junit => "junit",
        }
    }

    /// Whether it is for machines (and so may go to a file with `--output`).
    pub fn for_machines(self) -> bool {
        self != Format::Human
    }

    /// The machine formats' names, for messages: `json, gradescope or junit`.
    pub fn machine_names() -> String {
        let names: Vec<&str> = Format::ALL
            .iter()
            .filter(|f| f.for_machines())
            .map(|f| f.name())
            .collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

/// The results in `format`.
pub fn render(format: Format, grade: &Grade, context: &Context) -> String {
    match format {
        Format::Human => human::render(grade, context),
        Format::Json => json::render(grade),
        Format::Gradescope => gradescope::render(grade),
        Format::Junit => junit::render(grade),
    }
}

/// When there is nothing to grade (a bad option, a checkout that is not one): the document that
/// says why, for the formats an autograder reads (a results.json with score 0, a JUnit error), so
/// it always has something to show; `None` for the others, where the error message is enough.
pub fn cannot_grade(format: Format, message: &str) -> Option<String> {
    match format {
        Format::Gradescope => Some(gradescope::error(message)),
        Format::Junit => Some(junit::error(message)),
        Format::Human | Format::Json => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_formats_are_named_in_one_place() {
        assert_eq!(Format::machine_names(), "json, gradescope or junit");
        for format in Format::ALL {
            let value = clap::ValueEnum::to_possible_value(&format).expect("a value");
            assert_eq!(value.get_name(), format.name());
        }
    }
}
