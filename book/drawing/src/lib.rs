//! # drawing: the book's figures, written as SVG
//!
//! The figures of the book are drawn by the reference solutions (each solution's `figures`
//! example runs the reference on a small program and draws what it did), so that a change to the
//! reference that changes a picture cannot go unnoticed. This crate is what they draw with: an
//! [`Svg`] canvas with boxes, text, arrows and wrapped captions in the book's palette, and
//! [`Figures`], which writes the pictures into a chapter's folder or checks that the committed
//! ones are up to date.
//!
//! Two rules of the book are enforced here rather than remembered:
//!
//! - **No text under 12 px.** A figure is at most [`MAX_WIDTH`] wide, the width at which the
//!   content column shows it at 100% in a 1280 px window, and [`Svg::text`] refuses a size below
//!   [`MIN_TEXT`]. (`xtask/tests/book.rs` checks every SVG of the book the same way, hand-drawn
//!   ones included.)
//! - **Pictures are never hand-edited.** [`Figures::run`] writes them, and with `--check` (or in
//!   the example's test, which `cargo test` runs) fails when a committed file differs from what
//!   the reference draws now.
//!
//! ```
//! use drawing::{Svg, TextStyle, palette};
//!
//! let mut svg = Svg::new(300.0, "One box");
//! svg.rect(20.0, 20.0, 120.0, 40.0, palette::YOUNG.fill, palette::YOUNG.stroke, 1.6);
//! svg.text(32.0, 45.0, "A", TextStyle::new(16.0).bold());
//! let text = svg.finish();
//! assert!(text.starts_with("<svg"));
//! assert!(text.contains(">A</text>"));
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The widest a figure may be: the content column's width at 1280 px (`book/assets/gclabs.css`),
/// so that it is shown at its own size.
pub const MAX_WIDTH: f64 = 900.0;

/// The smallest text a figure may have, in pixels at 100% zoom.
pub const MIN_TEXT: f64 = 12.0;

/// The sans-serif fonts of the figures, the same as the book's body text on most systems.
pub const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, \
                        sans-serif";
/// The monospace fonts of the figures, for code and numbers that line up.
pub const MONO: &str =
    "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";

/// The book's colours. Each state an object can be in has a fill and a border that read apart
/// for the common kinds of colour blindness (blue, green, red and grey differ in lightness too).
pub mod palette {
    /// Text and borders of neutral things.
    pub const INK: &str = "#1f2937";
    /// Secondary text: labels, units, legends.
    pub const MUTED: &str = "#4b5563";
    /// Arrows.
    pub const EDGE: &str = "#4b5563";
    /// What a step is about: highlighted arrows and marks.
    pub const ACCENT: &str = "#c2410c";
    /// Backgrounds of neutral panels.
    pub const PANEL: &str = "#f3f4f6";

    /// A fill and a border.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Swatch {
        /// The fill.
        pub fill: &'static str,
        /// The border, and the text drawn on the fill when it needs a colour.
        pub stroke: &'static str,
    }

    /// Blue: young, new, in use, not decided yet.
    pub const YOUNG: Swatch = Swatch {
        fill: "#dbeafe",
        stroke: "#2563eb",
    };
    /// Green: alive, reachable, kept.
    pub const ALIVE: Swatch = Swatch {
        fill: "#dcfce7",
        stroke: "#15803d",
    };
    /// Red: garbage, freed, given back.
    pub const DEAD: Swatch = Swatch {
        fill: "#fee2e2",
        stroke: "#b91c1c",
    };
    /// Amber: waiting, deferred, on a list for later.
    pub const WAITING: Swatch = Swatch {
        fill: "#fef3c7",
        stroke: "#b45309",
    };
    /// Grey: empty, unused, gone.
    pub const EMPTY: Swatch = Swatch {
        fill: "#ffffff",
        stroke: "#9ca3af",
    };
}

/// How a piece of text is drawn.
#[derive(Clone, Copy, Debug)]
pub struct TextStyle {
    size: f64,
    bold: bool,
    mono: bool,
    anchor: &'static str,
    colour: &'static str,
}

impl TextStyle {
    /// Text of `size` pixels, regular, left-aligned, in [`palette::INK`].
    pub fn new(size: f64) -> TextStyle {
        TextStyle {
            size,
            bold: false,
            mono: false,
            anchor: "start",
            colour: palette::INK,
        }
    }

    /// Bold.
    pub fn bold(mut self) -> TextStyle {
        self.bold = true;
        self
    }

    /// In the monospace font.
    pub fn mono(mut self) -> TextStyle {
        self.mono = true;
        self
    }

    /// Centred on its x.
    pub fn centre(mut self) -> TextStyle {
        self.anchor = "middle";
        self
    }

    /// Ending at its x.
    pub fn right(mut self) -> TextStyle {
        self.anchor = "end";
        self
    }

    /// In this colour.
    pub fn colour(mut self, colour: &'static str) -> TextStyle {
        self.colour = colour;
        self
    }

    /// The width `text` takes in this style, estimated (average glyph widths of the fonts above):
    /// enough to place text next to other text without measuring it in a browser.
    pub fn width_of(&self, text: &str) -> f64 {
        let per_char = if self.mono { 0.61 } else { 0.56 };
        let bold = if self.bold { 1.06 } else { 1.0 };
        text.chars().count() as f64 * self.size * per_char * bold
    }
}

/// How a line or an arrow is drawn.
#[derive(Clone, Copy, Debug)]
pub struct LineStyle {
    colour: &'static str,
    width: f64,
    dashed: bool,
    arrow: bool,
}

impl LineStyle {
    /// A plain line of 1.6 px in [`palette::EDGE`].
    pub fn new() -> LineStyle {
        LineStyle {
            colour: palette::EDGE,
            width: 1.6,
            dashed: false,
            arrow: false,
        }
    }

    /// An arrow head at the end.
    pub fn arrow(mut self) -> LineStyle {
        self.arrow = true;
        self
    }

    /// Dashed (a weak reference, a link that does not own).
    pub fn dashed(mut self) -> LineStyle {
        self.dashed = true;
        self
    }

    /// In this colour (the arrow head too).
    pub fn colour(mut self, colour: &'static str) -> LineStyle {
        self.colour = colour;
        self
    }

    /// This many pixels wide.
    pub fn width(mut self, width: f64) -> LineStyle {
        self.width = width;
        self
    }
}

impl Default for LineStyle {
    fn default() -> Self {
        LineStyle::new()
    }
}

/// One figure being drawn: a white card of a fixed width, as tall as what is drawn on it.
pub struct Svg {
    width: f64,
    title: String,
    body: String,
    /// The lowest point drawn so far: the card ends below it.
    bottom: f64,
    /// The arrow-head markers used, by colour.
    markers: Vec<&'static str>,
}

impl Svg {
    /// A figure `width` pixels wide (at most [`MAX_WIDTH`]) with this title, which is drawn at
    /// its top and is also the SVG's `<title>` (what a screen reader says).
    ///
    /// # Panics
    /// If `width` is over [`MAX_WIDTH`].
    pub fn new(width: f64, title: &str) -> Svg {
        assert!(
            width <= MAX_WIDTH,
            "a figure {width} px wide would be shrunk to fit the content column ({MAX_WIDTH} px), \
             and its text with it"
        );
        let mut svg = Svg {
            width,
            title: title.to_string(),
            body: String::new(),
            bottom: 0.0,
            markers: Vec::new(),
        };
        svg.text(20.0, 32.0, title, TextStyle::new(17.0).bold());
        svg
    }

    /// The width of the figure.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The lowest point drawn so far.
    pub fn bottom(&self) -> f64 {
        self.bottom
    }

    fn reach(&mut self, y: f64) {
        self.bottom = self.bottom.max(y);
    }

    /// Counts everything down to `y` as drawn: for what [`path`](Svg::path) drew below the
    /// other shapes, which the figure cannot measure.
    pub fn reserve(&mut self, y: f64) {
        self.reach(y);
    }

    /// A rectangle with rounded corners.
    #[allow(clippy::too_many_arguments)]
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: &str, width: f64) {
        self.rect_dashed(x, y, w, h, fill, stroke, width, false);
    }

    /// A rectangle with rounded corners, its border dashed or not.
    #[allow(clippy::too_many_arguments)]
    pub fn rect_dashed(
        &mut self,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: &str,
        stroke: &str,
        width: f64,
        dashed: bool,
    ) {
        let dash = if dashed {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        // Rounded corners, less rounded on small cells, which would otherwise look like pills.
        let radius = 5.0_f64.min(w / 4.0).min(h / 4.0);
        writeln!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{fill}\" \
             stroke=\"{stroke}\" stroke-width=\"{width}\"{dash}/>",
            num(x),
            num(y),
            num(w),
            num(h),
            num(radius)
        )
        .expect("writing to a String");
        self.reach(y + h);
    }

    /// Text whose baseline starts (or is centred, or ends) at `(x, y)`.
    ///
    /// # Panics
    /// If the style's size is under [`MIN_TEXT`].
    pub fn text(&mut self, x: f64, y: f64, text: &str, style: TextStyle) {
        assert!(
            style.size >= MIN_TEXT,
            "text of {} px in a figure: the book's figures use {MIN_TEXT} px or more ({text:?})",
            style.size
        );
        let weight = if style.bold {
            " font-weight=\"bold\""
        } else {
            ""
        };
        let family = if style.mono {
            format!(" font-family=\"{MONO}\"")
        } else {
            String::new()
        };
        let anchor = if style.anchor == "start" {
            String::new()
        } else {
            format!(" text-anchor=\"{}\"", style.anchor)
        };
        writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\"{weight}{family}{anchor} fill=\"{}\">{}</text>",
            num(x),
            num(y),
            num(style.size),
            style.colour,
            escape(text)
        )
        .expect("writing to a String");
        self.reach(y + style.size * 0.3);
    }

    /// Text wrapped at `max_chars` characters a line, the first baseline at `y`, lines
    /// `line_height` apart. Returns the baseline after the last line.
    pub fn paragraph(
        &mut self,
        x: f64,
        y: f64,
        text: &str,
        max_chars: usize,
        line_height: f64,
        style: TextStyle,
    ) -> f64 {
        let mut baseline = y;
        for line in wrap(text, max_chars) {
            self.text(x, baseline, &line, style);
            baseline += line_height;
        }
        baseline
    }

    /// The figure's caption, below everything drawn so far, wrapped to the figure's width.
    pub fn caption(&mut self, text: &str) {
        let y = self.bottom + 28.0;
        let chars = ((self.width - 40.0) / (13.5 * 0.52)) as usize;
        self.paragraph(20.0, y, text, chars, 19.0, TextStyle::new(13.5));
    }

    fn marker(&mut self, colour: &'static str) -> String {
        if !self.markers.contains(&colour) {
            self.markers.push(colour);
        }
        format!("arrow-{}", colour.trim_start_matches('#'))
    }

    /// A straight line from `(x1, y1)` to `(x2, y2)`.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, style: LineStyle) {
        self.path(
            &format!("M{},{} L{},{}", num(x1), num(y1), num(x2), num(y2)),
            style,
        );
        self.reach(y1.max(y2));
    }

    /// A path (SVG path data), stroked and not filled.
    pub fn path(&mut self, d: &str, style: LineStyle) {
        let dash = if style.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let marker = if style.arrow {
            format!(" marker-end=\"url(#{})\"", self.marker(style.colour))
        } else {
            String::new()
        };
        writeln!(
            self.body,
            "<path d=\"{d}\" stroke=\"{}\" stroke-width=\"{}\" fill=\"none\"{dash}{marker}/>",
            style.colour,
            num(style.width)
        )
        .expect("writing to a String");
    }

    /// A legend entry: a small swatch and its label, at `(x, y)` (the swatch's top left).
    /// Returns the x after it, for the next entry.
    pub fn legend(&mut self, x: f64, y: f64, swatch: palette::Swatch, label: &str) -> f64 {
        self.rect(x, y, 18.0, 14.0, swatch.fill, swatch.stroke, 1.4);
        let style = TextStyle::new(12.5);
        self.text(x + 24.0, y + 12.0, label, style);
        x + 24.0 + style.width_of(label) + 18.0
    }

    /// The finished SVG text: a white card (so that the figure reads the same in the book's dark
    /// themes) as tall as what was drawn, with the drawing on it.
    pub fn finish(self) -> String {
        let height = (self.bottom + 18.0).ceil();
        let mut svg = String::new();
        writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" \
             viewBox=\"0 0 {} {height}\" font-family=\"{FONT}\" role=\"img\">",
            num(self.width),
            num(self.width)
        )
        .expect("writing to a String");
        writeln!(svg, "<title>{}</title>", escape(&self.title)).expect("writing to a String");
        if !self.markers.is_empty() {
            svg.push_str("<defs>\n");
            for colour in &self.markers {
                writeln!(
                    svg,
                    "<marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
                     markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 \
                     L0,10 z\" fill=\"{colour}\"/></marker>",
                    colour.trim_start_matches('#')
                )
                .expect("writing to a String");
            }
            svg.push_str("</defs>\n");
        }
        writeln!(
            svg,
            "<rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"#ffffff\" \
             stroke=\"#d1d5db\"/>",
            num(self.width - 1.0),
            num(height - 1.0)
        )
        .expect("writing to a String");
        svg.push_str(&self.body);
        svg.push_str("</svg>\n");
        svg
    }
}

/// A number as SVG wants it: at most one decimal, none when it is whole.
fn num(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// Text with `&`, `<` and `>` escaped for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` split into lines of at most `max` characters, at spaces.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// "A", "A and B", "A, B and C".
pub fn and_list<T: std::fmt::Display>(items: &[T]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("{} and {last}", init.join(", "))
        }
    }
}

/// The pictures of one chapter, and the command that draws them again.
pub struct Figures {
    /// The chapter's folder, where the SVG files go.
    pub dir: PathBuf,
    /// The command that redraws them, for the messages.
    pub redraw: &'static str,
    /// Every picture: its file name and its SVG text.
    pub pictures: Vec<(String, String)>,
}

impl Figures {
    /// The pictures whose committed file is missing or differs from what was drawn now.
    pub fn stale(&self) -> Vec<String> {
        self.pictures
            .iter()
            .filter(|(file, svg)| {
                std::fs::read_to_string(self.dir.join(file)).ok().as_ref() != Some(svg)
            })
            .map(|(file, _)| file.clone())
            .collect()
    }

    /// What the example's `main` does: with `--check` among the arguments, says whether the
    /// committed pictures are up to date (and exits 1 when they are not); otherwise writes those
    /// that changed, naming each.
    pub fn run(&self) {
        let check = std::env::args().skip(1).any(|arg| arg == "--check");
        let shown = shown_dir(&self.dir);
        if check {
            let stale = self.stale();
            if stale.is_empty() {
                println!(
                    "the {} pictures in {shown} are up to date",
                    self.pictures.len()
                );
                return;
            }
            eprintln!(
                "these pictures in {shown} differ from what the reference draws now: {}\nrun \
                 `{}` to draw them again",
                stale.join(", "),
                self.redraw
            );
            std::process::exit(1);
        }
        for (file, svg) in &self.pictures {
            let path = self.dir.join(file);
            if std::fs::read_to_string(&path).ok().as_deref() == Some(svg.as_str()) {
                continue;
            }
            std::fs::write(&path, svg)
                .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
            println!("wrote {shown}/{file}");
        }
    }

    /// What the example's test does (`cargo test` runs it): fails, naming the pictures and the
    /// command, when a committed picture is not what the reference draws now.
    pub fn assert_up_to_date(&self) {
        let stale = self.stale();
        assert!(
            stale.is_empty(),
            "these pictures in {} differ from what the reference draws now: {}\nrun `{}` to draw \
             them again",
            shown_dir(&self.dir),
            stale.join(", "),
            self.redraw
        );
    }
}

/// `book/src/NN-name`, from the absolute folder.
fn shown_dir(dir: &Path) -> String {
    let text = dir.display().to_string();
    match text.find("book/src") {
        Some(at) => text[at..].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_at_most_one_decimal() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(-3.04), "-3");
    }

    #[test]
    fn wrap_breaks_at_spaces() {
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(and_list(&['A', 'B', 'C']), "A, B and C");
    }

    #[test]
    #[should_panic(expected = "12 px or more")]
    fn small_text_is_refused() {
        let mut svg = Svg::new(200.0, "t");
        svg.text(0.0, 0.0, "tiny", TextStyle::new(11.0));
    }

    #[test]
    fn the_card_is_as_tall_as_the_drawing() {
        let mut svg = Svg::new(200.0, "t");
        svg.rect(10.0, 100.0, 20.0, 50.0, "#fff", "#000", 1.0);
        let text = svg.finish();
        assert!(text.contains("height=\"168\""), "{text}");
        assert!(text.contains("<title>t</title>"));
    }
}
