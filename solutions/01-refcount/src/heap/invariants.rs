//! Checking and showing a heap: [`check_invariants`](Heap::check_invariants) says in words which
//! rule a heap breaks, and [`dump`](Heap::dump) lists its state in a canonical text form, so that
//! two heaps that ran the same program can be compared line by line.

use std::fmt::Write as _;

use super::hooks::HeapHooks;
use super::object::{Kind, ObjId};
use super::slots::{Entry, Heap, last_occupant};

impl<H: HeapHooks> Heap<H> {
    // ANCHOR: check_invariants
    /// Checks the rules every heap keeps between two operations, and says which one broke:
    ///
    /// 1. the slot table is consistent: the free list names each free slot once (except slots
    ///    retired because their generation ran out) and no live one, and the number of live
    ///    objects matches the statistics;
    /// 2. every live object has a count of at least 1 (at 0 it should have been destroyed);
    /// 3. no name, call frame or live container holds a reference to a destroyed object;
    /// 4. every object's count is at least the number of references to it held by names, call
    ///    frames and containers (it may be more: the caller may hold owned references the heap
    ///    cannot see, so equality cannot be checked);
    /// 5. a dict's keys are ints or strs, no two equal; an instance's attribute names differ.
    pub fn check_invariants(&self) -> Result<(), String> {
        // 1. The slot table.
        let mut on_free_list = vec![false; self.slots.len()];
        for &index in &self.free {
            let Some(slot) = self.slots.get(index as usize) else {
                return Err(format!(
                    "the free list names slot {index}, past the end of the table"
                ));
            };
            if let Entry::Live(object) = &slot.entry {
                return Err(format!(
                    "the free list names slot {index}, which holds live object #{}",
                    object.serial
                ));
            }
            if std::mem::replace(&mut on_free_list[index as usize], true) {
                return Err(format!("the free list names slot {index} twice"));
            }
        }
        for (index, slot) in self.slots.iter().enumerate() {
            let retired = slot.generation == u32::MAX;
            if matches!(slot.entry, Entry::Free { .. }) && !retired && !on_free_list[index] {
                return Err(format!(
                    "slot {index} is free but not on the free list: it would never be reused"
                ));
            }
        }
        let live = self.objects().count();
        if live != self.live_objects() {
            return Err(format!(
                "{live} slots hold a live object, but the statistics say {} objects are alive \
                 ({} allocated, {} destroyed)",
                self.live_objects(),
                self.allocated_count(),
                self.destroyed_count()
            ));
        }

        // 2 and 3, while counting the references held to each slot.
        let mut held = vec![0usize; self.slots.len()];
        let mut count = |id: ObjId, holder: &dyn Fn() -> String| {
            if !self.is_alive(id) {
                return Err(format!(
                    "{} holds a reference to {}",
                    holder(),
                    self.describe_any(id)
                ));
            }
            held[id.index()] += 1;
            Ok(())
        };
        for (name, id) in self.names() {
            count(id, &|| format!("the name '{name}'"))?;
        }
        for (depth, frame) in self.frames.iter().enumerate() {
            for &id in frame {
                count(id, &|| format!("the frame of call {depth} (0 = outermost)"))?;
            }
        }
        for (container, object) in self.objects() {
            if object.refcount == 0 {
                return Err(format!(
                    "{} is alive with count 0: a decref brought it to zero without destroying it",
                    self.describe(container)
                ));
            }
            let mut result = Ok(());
            object.kind.traverse(&mut |id| {
                if result.is_ok() {
                    result = count(id, &|| self.describe(container));
                }
            });
            result?;
        }

        // 4. Counts against the references seen.
        for (id, object) in self.objects() {
            let seen = held[id.index()];
            if object.refcount < seen {
                return Err(format!(
                    "{} has count {}, but {seen} references to it are held (by {}): an incref is \
                     missing, or there was a decref too many",
                    self.describe(id),
                    object.refcount,
                    self.holders(id).join(", ")
                ));
            }
        }

        // 5. Keys and attribute names.
        for (id, object) in self.objects() {
            match &object.kind {
                Kind::Dict(entries) => {
                    for (i, &(key, _)) in entries.iter().enumerate() {
                        let key_kind = self.kind(key);
                        if key_kind.is_container() {
                            return Err(format!(
                                "{} has {} as a key: keys must be ints or strs",
                                self.describe(id),
                                self.describe(key)
                            ));
                        }
                        if entries[..i].iter().any(|&(k, _)| self.kind(k) == key_kind) {
                            return Err(format!(
                                "{} has two entries whose keys equal {:?}",
                                self.describe(id),
                                key_kind
                            ));
                        }
                    }
                }
                Kind::Instance { attrs, .. } => {
                    for (i, (name, _)) in attrs.iter().enumerate() {
                        if attrs[..i].iter().any(|(n, _)| n == name) {
                            return Err(format!(
                                "{} has two attributes named '{name}'",
                                self.describe(id)
                            ));
                        }
                    }
                }
                Kind::Int(_) | Kind::Str(_) | Kind::List(_) | Kind::Tuple(_) => {}
            }
        }
        Ok(())
    }
    // ANCHOR_END: check_invariants

    /// Who holds references to `id`: for messages.
    fn holders(&self, id: ObjId) -> Vec<String> {
        let mut found: Vec<String> = self
            .names()
            .filter(|&(_, target)| target == id)
            .map(|(name, _)| format!("the name '{name}'"))
            .collect();
        for (depth, frame) in self.frames.iter().enumerate() {
            for _ in frame.iter().filter(|&&target| target == id) {
                found.push(format!("the frame of call {depth}"));
            }
        }
        for (container, object) in self.objects() {
            object.kind.traverse(&mut |target| {
                if target == id {
                    found.push(self.describe(container));
                }
            });
        }
        found
    }

    /// Names `id` in a message whether or not it is alive.
    fn describe_any(&self, id: ObjId) -> String {
        if self.is_alive(id) {
            return self.describe(id);
        }
        match self.slots.get(id.index()) {
            Some(slot) => match &slot.entry {
                Entry::Free { serial, what } if last_occupant(id, slot.generation) => {
                    format!("object #{serial} ({what}), which was destroyed")
                }
                _ => format!("a destroyed object ({id:?}, whose slot has been reused)"),
            },
            None => format!("{id:?}, which names no slot of this heap"),
        }
    }

    /// `#12` for a live object; something unmistakable for a dead one. The dump must not panic,
    /// even on a broken heap.
    fn serial_text(&self, id: ObjId) -> String {
        if self.is_alive(id) {
            format!("#{}", self.serial(id))
        } else {
            format!("<{}>", self.describe_any(id))
        }
    }

    /// A canonical listing of the heap: each live object in creation order (its serial, its type
    /// and contents, with referents shown by serial, and its count), then the names, then the
    /// arguments of the calls in progress. Two heaps in the same state give the same text,
    /// whichever slots their objects landed in, so the dumps of your heap and of the reference
    /// can be compared with a diff.
    ///
    /// ```text
    /// #0 int 7 (count 2)
    /// #1 list [#0, #2] (count 1)
    /// #2 str 'hi' (count 1)
    /// names: x=#1 y=#0
    /// frames: none
    /// ```
    pub fn dump(&self) -> String {
        let mut objects: Vec<_> = self.objects().map(|(_, object)| object).collect();
        objects.sort_by_key(|object| object.serial);
        let mut out = String::new();
        for object in objects {
            let contents = match &object.kind {
                Kind::Int(value) => format!("int {value}"),
                Kind::Str(value) => format!("str '{value}'"),
                Kind::List(items) => format!("list [{}]", ids_text(self, items)),
                Kind::Tuple(items) => format!("tuple ({})", ids_text(self, items)),
                Kind::Dict(entries) => {
                    let entries: Vec<String> = entries
                        .iter()
                        .map(|&(k, v)| format!("{}: {}", self.serial_text(k), self.serial_text(v)))
                        .collect();
                    format!("dict {{{}}}", entries.join(", "))
                }
                Kind::Instance { class, attrs } => {
                    let attrs: Vec<String> = attrs
                        .iter()
                        .map(|(name, v)| format!("{name}={}", self.serial_text(*v)))
                        .collect();
                    format!("{class} instance ({})", attrs.join(", "))
                }
            };
            let _ = writeln!(
                out,
                "#{} {contents} (count {})",
                object.serial, object.refcount
            );
        }
        let names: Vec<String> = self
            .names()
            .map(|(name, id)| format!("{name}={}", self.serial_text(id)))
            .collect();
        let _ = writeln!(
            out,
            "names: {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(" ")
            }
        );
        let frames: Vec<String> = self
            .frames
            .iter()
            .map(|frame| format!("({})", ids_text(self, frame)))
            .collect();
        let _ = writeln!(
            out,
            "frames: {}",
            if frames.is_empty() {
                "none".to_string()
            } else {
                frames.join(" ")
            }
        );
        out
    }
}

/// `#1, #2` for a list of handles.
fn ids_text<H: HeapHooks>(heap: &Heap<H>, ids: &[ObjId]) -> String {
    ids.iter()
        .map(|&id| heap.serial_text(id))
        .collect::<Vec<_>>()
        .join(", ")
}
