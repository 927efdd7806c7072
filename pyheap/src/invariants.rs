//! Checking and showing a heap: [`check_invariants`](Heap::check_invariants) says in words which
//! rule a heap breaks, and [`dump`](Heap::dump) lists its state canonically (by serial, never by
//! slot), so two heaps that ran the same program compare line by line.

use std::fmt::Write as _;

use crate::allocation::{DICT_FREE_LIST_MAX, LIST_FREE_LIST_MAX, TUPLE_FREE_LIST_MAX};
use crate::gc_lists::GcList;
use crate::heap::{Entry, Heap, last_occupant};
use crate::object::{Kind, NIL, ObjId};

impl Heap {
    /// [`check_invariants`](Heap::check_invariants) for tests: panics with the invariant that
    /// broke, in words, followed by the [`dump`](Heap::dump) of the heap.
    ///
    /// # Panics
    /// If an invariant does not hold.
    #[track_caller]
    pub fn assert_invariants(&self) {
        if let Err(why) = self.check_invariants() {
            panic!("check_invariants: {why}\nthe heap:\n{}", self.dump());
        }
    }

    /// Checks the rules every heap keeps between two operations, and says which one broke:
    ///
    /// 1. the slot table is consistent (free list, statistics);
    /// 2. every live object has a count of at least 1;
    /// 3. nothing live (a name, a frame, a container, a weakref) refers to a destroyed object;
    /// 4. every count is at least the number of references held by names, frames, containers
    ///    and the heap itself (`None`, `()`); more is allowed, for references the caller owns;
    /// 5. dict keys are atoms, no two equal, and a str-only keys table holds only str keys;
    ///    attribute names differ;
    /// 6. the GC lists are well linked (links, ends, lengths and membership agree), and only GC
    ///    objects are tracked (never an atom, `None` or `()`);
    /// 7. a weakref with a referent is in that referent's weaklist once, every weaklist entry is
    ///    a live weakref to its owner, and only the first entry may lack a callback;
    /// 8. no free list holds more than CPython's limit.
    pub fn check_invariants(&self) -> Result<(), String> {
        // 1. The slot table.
        if self.heads.len() != self.bodies.len() {
            return Err(format!(
                "the heap has {} headers but {} bodies",
                self.heads.len(),
                self.bodies.len()
            ));
        }
        let mut on_free_list = vec![false; self.heads.len()];
        for &index in &self.free {
            match self.bodies.get(index as usize) {
                None => return Err(format!("the free list names slot {index}, past the end")),
                Some(Entry::Live(object)) => {
                    return Err(format!(
                        "the free list names slot {index}, which holds live object #{}",
                        object.serial
                    ));
                }
                Some(Entry::Free { .. }) => {}
            }
            if std::mem::replace(&mut on_free_list[index as usize], true) {
                return Err(format!("the free list names slot {index} twice"));
            }
        }
        for (index, (head, body)) in self.heads.iter().zip(self.bodies.iter()).enumerate() {
            let retired = head.generation == u32::MAX;
            let free = matches!(body, Entry::Free { .. });
            if free && !retired && !on_free_list[index] {
                return Err(format!("slot {index} is free but not on the free list"));
            }
            if free == head.is_live() {
                return Err(format!(
                    "slot {index}'s header says {} but its body says {}",
                    if head.is_live() { "live" } else { "free" },
                    if free { "free" } else { "live" }
                ));
            }
            if let Entry::Live(object) = body
                && object.generation != head.generation
            {
                return Err(format!(
                    "slot {index}'s body has generation {} but its header {}: a handle would be \
                     checked differently by the two",
                    object.generation, head.generation
                ));
            }
        }
        let mut census = crate::heap::Census::default();
        for (_, object) in self.objects() {
            match &object.kind {
                Kind::Tuple(items) if !items.is_empty() => census.tuples += 1,
                Kind::Dict { .. } => census.dicts += 1,
                Kind::WeakRef { .. } => census.weakrefs += 1,
                Kind::Instance { class, .. } if self.class(*class).finalizer.is_some() => {
                    census.finalizable += 1
                }
                _ => {}
            }
        }
        if (
            census.tuples,
            census.dicts,
            census.weakrefs,
            census.finalizable,
        ) != (
            self.census.tuples,
            self.census.dicts,
            self.census.weakrefs,
            self.census.finalizable,
        ) {
            return Err(format!(
                "the heap counts {:?} by kind, but the live objects are {census:?}",
                self.census
            ));
        }
        let live = self.objects().count();
        if live != self.live_objects() {
            return Err(format!(
                "{live} slots hold a live object, but the statistics say {}",
                self.live_objects()
            ));
        }

        // 2 and 3, counting the references held to each slot.
        let mut held = vec![0usize; self.heads.len()];
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
        count(self.none, &|| "the heap".to_string())?;
        count(self.empty_tuple, &|| "the heap".to_string())?;
        for (name, id) in self.names() {
            count(id, &|| format!("the name '{name}'"))?;
        }
        for (depth, frame) in self.frames.iter().enumerate() {
            for &id in frame {
                count(id, &|| format!("the frame of call {depth} (0 = outermost)"))?;
            }
        }
        for (container, object) in self.objects() {
            if self.refcount(container) == 0 {
                return Err(format!(
                    "{} is alive with count 0: a decref brought it to zero without destroying it",
                    self.describe(container)
                ));
            }
            let mut result = Ok(());
            object.kind.all_references(&mut |id| {
                if result.is_ok() {
                    result = count(id, &|| self.describe(container));
                }
            });
            result?;
        }

        // 4. Counts against the references seen.
        for (id, object) in self.objects() {
            let seen = held[id.index()];
            let _ = object;
            if self.refcount(id) < seen {
                return Err(format!(
                    "{} has count {}, but {seen} references to it are held: an incref is \
                     missing, or there was a decref too many",
                    self.describe(id),
                    self.refcount(id)
                ));
            }
        }

        // 5. Keys and attribute names.
        for (id, object) in self.objects() {
            match &object.kind {
                Kind::Dict { entries, str_keys } => {
                    for (i, &(key, _)) in entries.iter().enumerate() {
                        let key_kind = self.kind(key);
                        if !key_kind.is_key() {
                            return Err(format!(
                                "{} has {} as a key",
                                self.describe(id),
                                self.describe(key)
                            ));
                        }
                        if *str_keys && !matches!(key_kind, Kind::Str(_)) {
                            return Err(format!(
                                "{} has a str-only keys table but the key {}",
                                self.describe(id),
                                self.repr(key)
                            ));
                        }
                        if entries[..i].iter().any(|&(k, _)| self.kind(k) == key_kind) {
                            return Err(format!(
                                "{} has two entries whose keys equal {}",
                                self.describe(id),
                                self.repr(key)
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
                _ => {}
            }
        }

        // 6. The GC lists.
        let mut linked = vec![false; self.heads.len()];
        for (number, head) in self.lists.iter().enumerate() {
            let list = GcList(number as u32);
            if self.tags.get(head.tag as usize) != Some(&list) || !head.tags.contains(&head.tag) {
                return Err(format!("{}'s own tag stands for another list", list.name()));
            }
            for &tag in &head.tags {
                if self.tags.get(tag as usize) != Some(&list) || self.free_tags.contains(&tag) {
                    return Err(format!(
                        "{}'s tag {tag} stands for another list",
                        list.name()
                    ));
                }
            }
            if !head.in_use {
                if head.len != 0 || head.first != NIL {
                    return Err(format!(
                        "{} was released while holding objects",
                        list.name()
                    ));
                }
                continue;
            }
            let (mut cursor, mut prev, mut len) = (head.first, NIL, 0);
            while cursor != NIL {
                let index = cursor;
                let Some(Entry::Live(object)) = self.bodies.get(index as usize) else {
                    return Err(format!("{} links slot {index}, which is free", list.name()));
                };
                let id = self.id_at(index);
                if std::mem::replace(&mut linked[index as usize], true) {
                    return Err(format!("{} is linked twice", self.describe(id)));
                }
                let header = self.head_at(index);
                if self.gc_list_of(id) != Some(list) || header.prev != prev {
                    return Err(format!(
                        "{} is linked into {} but its header says {:?} (previous slot {}, \
                         expected {})",
                        self.describe(id),
                        list.name(),
                        self.gc_list_of(id).map(GcList::name),
                        header.prev,
                        prev
                    ));
                }
                if !object.kind.is_gc() || id == self.empty_tuple {
                    return Err(format!(
                        "{} is tracked, but it can never be",
                        self.describe(id)
                    ));
                }
                prev = index;
                cursor = header.next;
                len += 1;
            }
            if head.last != prev || head.len != len {
                return Err(format!(
                    "{} holds {len} objects ending at slot {prev:?}, but its head says {} ending \
                     at {:?}",
                    list.name(),
                    head.len,
                    head.last
                ));
            }
        }
        for (id, _) in self.objects() {
            if self.is_tracked(id) && !linked[id.index()] {
                return Err(format!(
                    "{} says it is in {:?} but no list links it",
                    self.describe(id),
                    self.gc_list_of(id).map(GcList::name)
                ));
            }
        }

        // 7. Weakrefs.
        for (id, object) in self.objects() {
            if let Kind::WeakRef {
                referent: Some(referent),
                ..
            } = &object.kind
            {
                if !self.is_alive(*referent) {
                    return Err(format!(
                        "{} refers to {}",
                        self.describe(id),
                        self.describe_any(*referent)
                    ));
                }
                let times = self
                    .weakrefs_to(*referent)
                    .iter()
                    .filter(|&&w| w == id)
                    .count();
                if times != 1 {
                    return Err(format!(
                        "{} refers to {} but is in its weaklist {times} times",
                        self.describe(id),
                        self.describe(*referent)
                    ));
                }
            }
            for (position, &wr) in object.weakrefs.iter().enumerate() {
                let ok = self.is_alive(wr)
                    && match self.kind(wr) {
                        Kind::WeakRef { referent, callback } => {
                            *referent == Some(id) && (callback.is_some() || position == 0)
                        }
                        _ => false,
                    };
                if !ok {
                    return Err(format!(
                        "the weaklist of {} holds {} at position {position}, which is not a live \
                         weakref to it (or a second one without a callback)",
                        self.describe(id),
                        self.describe_any(wr)
                    ));
                }
            }
        }

        // 8. Free lists.
        if let Some(lists) = &self.free_lists {
            let over = lists.lists > LIST_FREE_LIST_MAX
                || lists.dicts > DICT_FREE_LIST_MAX
                || lists.tuples.iter().any(|&n| n > TUPLE_FREE_LIST_MAX);
            if over {
                return Err(format!(
                    "a free list holds more than CPython's limit: {}",
                    lists.describe()
                ));
            }
        }
        Ok(())
    }

    /// Names `id` in a message whether or not it is alive.
    fn describe_any(&self, id: ObjId) -> String {
        if self.is_alive(id) {
            return self.describe(id);
        }
        match (self.heads.get(id.index()), self.bodies.get(id.index())) {
            (Some(head), Some(body)) => match body {
                Entry::Free { serial, what } if last_occupant(id, head.generation) => {
                    format!(
                        "object #{serial} ({}), which was destroyed",
                        self.article(*what)
                    )
                }
                _ => format!("a destroyed object ({id:?}, whose slot has been reused)"),
            },
            _ => format!("{id:?}, which names no slot of this heap"),
        }
    }

    /// `#12` for a live object; something unmistakable for a dead one (the dump never panics).
    fn serial_text(&self, id: ObjId) -> String {
        if self.is_alive(id) {
            format!("#{}", self.serial(id))
        } else {
            format!("<{}>", self.describe_any(id))
        }
    }

    fn ids_text(&self, ids: &[ObjId]) -> String {
        ids.iter()
            .map(|&id| self.serial_text(id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A canonical listing: each live object by serial (type and contents, referents by serial,
    /// count, GC state, weakrefs to it), then the names, the frames, the GC lists in order, what
    /// the free lists hold (on a heap that has them) and the counts.
    ///
    /// ```text
    /// #0 None (count 1)
    /// #1 tuple () (count 1)
    /// #2 list [#2] (count 1, gen0)
    /// #3 C instance () (count 1, gen0, finalized, weakrefs #4)
    /// #4 weakref -> #3 with callback (count 1, gen0)
    /// names: c=#3 w=#4
    /// frames: none
    /// gen0: #2, #3, #4
    /// gen1:
    /// gen2:
    /// permanent:
    /// counts: 3 0 0
    /// ```
    pub fn dump(&self) -> String {
        let mut objects: Vec<_> = self.objects().collect();
        objects.sort_by_key(|(_, object)| object.serial);
        let mut out = String::new();
        for (id, object) in objects {
            let contents = match &object.kind {
                Kind::None => "None".to_string(),
                Kind::Int(value) => format!("int {value}"),
                Kind::Str(value) => format!("str '{value}'"),
                Kind::List(items) => format!("list [{}]", self.ids_text(items)),
                Kind::Tuple(items) => format!("tuple ({})", self.ids_text(items)),
                Kind::Dict { entries, .. } => {
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
                    format!(
                        "{} instance ({})",
                        self.class(*class).name,
                        attrs.join(", ")
                    )
                }
                Kind::WeakRef { referent, callback } => format!(
                    "weakref -> {}{}",
                    referent.map_or("dead".to_string(), |r| self.serial_text(r)),
                    if callback.is_some() {
                        " with callback"
                    } else {
                        ""
                    }
                ),
            };
            let mut state = format!("count {}", self.refcount(id));
            if let Some(list) = self.gc_list_of(id) {
                let _ = write!(state, ", {}", list.name());
            }
            if self.is_finalized(id) {
                state.push_str(", finalized");
            }
            if !object.weakrefs.is_empty() {
                let _ = write!(state, ", weakrefs {}", self.ids_text(&object.weakrefs));
            }
            let _ = writeln!(out, "#{} {contents} ({state})", object.serial);
        }
        let names: Vec<String> = self
            .names()
            .map(|(name, id)| format!("{name}={}", self.serial_text(id)))
            .collect();
        let _ = writeln!(out, "names: {}", none_if_empty(names.join(" ")));
        let frames: Vec<String> = self
            .frames
            .iter()
            .map(|frame| format!("({})", self.ids_text(frame)))
            .collect();
        let _ = writeln!(out, "frames: {}", none_if_empty(frames.join(" ")));
        for (number, head) in self.lists.iter().enumerate() {
            if head.in_use {
                let list = GcList(number as u32);
                let members = self.ids_text(&self.gc_list_objects(list));
                let _ = writeln!(out, "{}:{}", list.name(), prefixed(" ", &members));
            }
        }
        if let Some(lists) = &self.free_lists {
            let _ = writeln!(out, "free lists: {}", lists.describe());
        }
        let [c0, c1, c2] = self.gc_counts;
        let _ = writeln!(out, "counts: {c0} {c1} {c2}");
        out
    }
}

/// `" text"`, or nothing for an empty text (so no line of the dump ends in a space).
fn prefixed(prefix: &str, text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{prefix}{text}")
    }
}

/// `"none"` for an empty text.
fn none_if_empty(text: String) -> String {
    if text.is_empty() {
        "none".to_string()
    } else {
        text
    }
}
