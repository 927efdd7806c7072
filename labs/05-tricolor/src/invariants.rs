//! The invariants of tricolor marking, checked and named.
//!
//! [`Heap::check_invariants`] runs four checks and says, in words, which invariant broke, where
//! and when (the cycle, and the step after which it was found):
//!
//! ```text
//!   check_worklist      gray ⇔ on the worklist, once; between cycles everything is white
//!   check_no_dangling   no live object and no root refers to a swept object
//!   check_strong        (marking, Dijkstra or no barrier) no black object points to a white one
//!   check_weak          (marking, Yuasa) a white object a black one points to is still reached
//!                       from some gray object through white objects only
//! ```
//!
//! The strong invariant is what Dijkstra's barrier keeps: a store into a black object shades what
//! it stores. Yuasa's barrier does not keep it (a black object may be given a white one), and
//! does not need to: the white object was reachable when the cycle started, so some gray object
//! still leads to it through white objects, and it will be marked. That is the weak invariant
//! (Pirinen, "Barrier techniques for incremental tracing", 1998). Either one is enough for the
//! same conclusion: when no gray object is left, no black object points to a white one, so
//! nothing reachable is white, and the sweep frees only garbage.
//!
//! The checks look at whole objects: a gray object scanned in part counts as gray for all of its
//! slots (a simplification the chapter's challenges come back to).

use std::fmt;

use crate::color::{Barrier, Color, Phase};
use crate::heap::Heap;

/// An invariant that does not hold, with the objects it concerns, by name.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Violation {
    /// A gray object is not on the worklist: no step will ever scan it.
    GrayOffWorklist {
        /// The gray object.
        gray: String,
    },
    /// The worklist holds an object that is not gray.
    NotGrayOnWorklist {
        /// The object.
        name: String,
        /// Its colour.
        color: Color,
    },
    /// The worklist holds an object twice.
    TwiceOnWorklist {
        /// The object.
        name: String,
    },
    /// Between cycles an object is not white.
    NotWhiteBetweenCycles {
        /// The object.
        name: String,
        /// Its colour.
        color: Color,
    },
    /// A black object points to a white one: the strong tricolor invariant is broken.
    BlackPointsToWhite {
        /// The black object.
        black: String,
        /// The white object it points to.
        white: String,
    },
    /// A black object points to a white one that no gray object reaches through white objects:
    /// the weak tricolor invariant is broken, and nothing will ever mark the white one.
    WhiteHiddenBehindBlack {
        /// The black object.
        black: String,
        /// The white object it points to.
        white: String,
    },
    /// A live object refers to an object the sweep freed.
    RefersToSwept {
        /// The live object.
        holder: String,
        /// The swept object.
        swept: String,
    },
    /// A root holds an object the sweep freed.
    RootHoldsSwept {
        /// The root's position on the stack (0 at the bottom).
        root: usize,
        /// The swept object.
        swept: String,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::GrayOffWorklist { gray } => {
                write!(
                    f,
                    "gray {gray} is not on the worklist: no step will ever scan it"
                )
            }
            Violation::NotGrayOnWorklist { name, color } => write!(
                f,
                "the worklist holds {color} {name}: only gray objects belong there"
            ),
            Violation::TwiceOnWorklist { name } => {
                write!(f, "{name} is on the worklist twice")
            }
            Violation::NotWhiteBetweenCycles { name, color } => write!(
                f,
                "{name} is {color} between cycles: after a sweep every object is white"
            ),
            Violation::BlackPointsToWhite { black, white } => write!(
                f,
                "black {black} points to white {white} (the strong tricolor invariant: no black \
                 object points to a white one)"
            ),
            Violation::WhiteHiddenBehindBlack { black, white } => write!(
                f,
                "black {black} points to white {white}, and no gray object reaches {white} \
                 through white objects (the weak tricolor invariant): nothing will mark {white}"
            ),
            Violation::RefersToSwept { holder, swept } => write!(
                f,
                "{holder} refers to {swept}, which the sweep freed: a reachable object was swept"
            ),
            Violation::RootHoldsSwept { root, swept } => write!(
                f,
                "root {root} holds {swept}, which the sweep freed: a reachable object was swept"
            ),
        }
    }
}

/// A [`Violation`] and when it was found ([`Heap::moment`]).
#[derive(Clone, PartialEq, Eq)]
pub struct InvariantError {
    /// What broke.
    pub violation: Violation,
    /// When: `cycle 1, after step 2, then 2 mutator operations`.
    pub at: String,
}

impl fmt::Display for InvariantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.violation)
    }
}

/// Shows the message.
impl fmt::Debug for InvariantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InvariantError {}

impl Heap {
    // ANCHOR: check_invariants
    /// Checks the invariants of the module docs, in order, and returns the first that does not
    /// hold, with the moment it was found. Which form of the tricolor invariant applies depends
    /// on the barrier: the weak one under Yuasa's, the strong one otherwise (with no barrier,
    /// the strong one is what the collector would need and does not keep).
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        self.check_worklist()
            .and_then(|()| self.check_no_dangling())
            .and_then(|()| match (self.phase, self.barrier) {
                (Phase::Idle, _) => Ok(()),
                (Phase::Marking, Barrier::Yuasa) => self.check_weak(),
                (Phase::Marking, Barrier::Dijkstra | Barrier::None) => self.check_strong(),
            })
            .map_err(|violation| InvariantError {
                violation,
                at: self.moment(),
            })
    }
    // ANCHOR_END: check_invariants

    // ANCHOR: check_strong
    /// The strong tricolor invariant: no live black object refers to a white object. Reports the
    /// first black object, in slot order, and the first white object among its
    /// [`referents`](Heap::referents), as [`Violation::BlackPointsToWhite`].
    pub fn check_strong(&self) -> Result<(), Violation> {
        // TODO: find a black object that points to a white one
        todo!()
    }
    // ANCHOR_END: check_strong

    // ANCHOR: check_worklist
    /// The worklist and the colours agree: every entry of the worklist is gray and appears once
    /// ([`Violation::NotGrayOnWorklist`], [`Violation::TwiceOnWorklist`], checked bottom to top),
    /// and every live gray object is on it ([`Violation::GrayOffWorklist`]). Between cycles,
    /// every live object is white ([`Violation::NotWhiteBetweenCycles`]). Objects are checked in
    /// slot order.
    pub fn check_worklist(&self) -> Result<(), Violation> {
        // TODO: each worklist entry gray and there once; each gray object on the worklist; between
        //       cycles everything white
        todo!()
    }
    // ANCHOR_END: check_worklist

    // ANCHOR: check_no_dangling
    /// Nothing live refers to a swept object: no live object, in slot order, has a swept object
    /// among its [`referents`](Heap::referents) ([`Violation::RefersToSwept`]), and no root,
    /// bottom first, holds one ([`Violation::RootHoldsSwept`]). This is "nothing reachable was
    /// ever swept", seen from the objects that still refer.
    pub fn check_no_dangling(&self) -> Result<(), Violation> {
        // TODO: find a live object or a root that refers to a swept object
        todo!()
    }
    // ANCHOR_END: check_no_dangling

    // ANCHOR: check_weak
    /// The weak tricolor invariant: every white object a live black object refers to can be
    /// reached from some gray object through white objects only, so marking will still find it.
    /// Reports the first black object, in slot order, and the first such white referent no gray
    /// object reaches, as [`Violation::WhiteHiddenBehindBlack`].
    ///
    /// Find what the gray objects reach through white objects first, in one pass over the graph
    /// (no recursion), then look at the black objects.
    pub fn check_weak(&self) -> Result<(), Violation> {
        // TODO: mark what the gray objects reach through white ones; then find a black object
        //       pointing to a white one outside that set
        todo!()
    }
    // ANCHOR_END: check_weak
}
