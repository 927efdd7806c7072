//! Containers: list, dict and attribute operations. Each borrows its arguments and takes its own
//! reference to what it stores (`PyList_Append`, `PyDict_SetItem`); reads return borrowed
//! references, except [`list_pop`](Heap::list_pop), which hands the list's reference over.
//!
//! # Dict tracking (`MAINTAIN_TRACKING`)
//!
//! A dict is created untracked. Every insertion (`insertdict`) tracks it if it is untracked and
//! the key or the value *may be tracked* ([`Heap::may_be_tracked`]): any GC object, except a
//! tuple that is already untracked. So `d = {}; d[1] = 'a'` stays untracked, and `d['x'] = []`
//! tracks it. Deleting the list again does not untrack it: only
//! [`maybe_untrack_dict`](Heap::maybe_untrack_dict), called by a full collection, does.
//!
//! ```text
//!   d = {}            untracked     (gc.is_tracked(d) == False, CPython 3.11.7)
//!   d[1] = 2          untracked
//!   d[2] = {}         tracked       (a dict may be tracked, even an untracked one)
//!   del d[2]          tracked       (gc.collect(0) leaves it tracked; gc.collect() untracks it)
//! ```

use crate::heap::Heap;
use crate::object::{Kind, ObjId};

impl Heap {
    /// `list.append(item)` (`PyList_Append`). `item` is borrowed.
    ///
    /// # Panics
    /// If `list` is not a list.
    #[track_caller]
    pub fn list_append(&mut self, list: ObjId, item: ObjId) {
        self.incref(item);
        self.list_items_mut(list, "append").push(item);
    }

    /// `list[index] = item`: takes a reference to `item`, then gives up the old item's.
    ///
    /// # Panics
    /// With `IndexError` if `index` is out of range; if `list` is not a list.
    #[track_caller]
    pub fn list_set(&mut self, list: ObjId, index: usize, item: ObjId) {
        let len = self.list_items_mut(list, "__setitem__").len();
        assert!(
            index < len,
            "IndexError: list assignment index out of range"
        );
        self.incref(item);
        let old = std::mem::replace(&mut self.list_items_mut(list, "__setitem__")[index], item);
        self.decref(old);
    }

    /// `list.pop()`: removes the last item and returns it as a NEW reference.
    ///
    /// # Panics
    /// With `IndexError` if the list is empty; if `list` is not a list.
    #[track_caller]
    pub fn list_pop(&mut self, list: ObjId) -> ObjId {
        self.list_items_mut(list, "pop")
            .pop()
            .unwrap_or_else(|| panic!("IndexError: pop from empty list"))
    }

    /// `list[start:end] = items` (`list_ass_slice`): the list takes a reference to each of
    /// `items` (borrowed) in place of `list[start:end]`, and hands the removed items' references
    /// to the caller, in list order. CPython releases them last to first, once the list is
    /// whole again; so should the caller. `del list[i]` is `start = i, end = i + 1` and no items;
    /// `list.insert(i, x)` is `start = end = i`.
    ///
    /// # Panics
    /// If `start > end` or `end` is past the end; if `list` is not a list.
    #[track_caller]
    pub fn list_splice(
        &mut self,
        list: ObjId,
        start: usize,
        end: usize,
        items: &[ObjId],
    ) -> Vec<ObjId> {
        let len = self.list_items_mut(list, "__setitem__").len();
        assert!(
            start <= end && end <= len,
            "list_splice: {start}..{end} is not a range of a list of {len} items"
        );
        for &item in items {
            self.incref(item);
        }
        let list_items = self.list_items_mut(list, "__setitem__");
        let removed = list_items.drain(start..end).collect();
        list_items.insert_many(start, items.iter().copied());
        removed
    }

    /// `list[index]` (`PyList_GetItem`): a borrowed reference.
    ///
    /// # Panics
    /// With `IndexError` if `index` is out of range; if `list` is not a list.
    #[track_caller]
    pub fn list_get(&self, list: ObjId, index: usize) -> ObjId {
        let Kind::List(items) = self.kind(list) else {
            panic!("list_get: expected a list, got {}", self.describe(list))
        };
        *items
            .get(index)
            .unwrap_or_else(|| panic!("IndexError: list index out of range"))
    }

    /// `len(id)` of a list, tuple, dict or str.
    ///
    /// # Panics
    /// With `TypeError` for other types.
    #[track_caller]
    pub fn len(&self, id: ObjId) -> usize {
        match self.kind(id) {
            Kind::List(items) | Kind::Tuple(items) => items.len(),
            Kind::Dict { entries, .. } => entries.len(),
            Kind::Str(s) => s.chars().count(),
            _ => panic!(
                "TypeError: object of type '{}' has no len()",
                self.type_name(id)
            ),
        }
    }

    /// `dict[key] = value` (`PyDict_SetItem`, `insertdict`). An existing entry with an equal key
    /// keeps its key object and swaps its value; otherwise a new entry goes at the end. Both are
    /// borrowed. Tracks the dict if it is untracked and `key` or `value` may be tracked
    /// (`MAINTAIN_TRACKING`); a key that is not a str makes the keys table general for good.
    ///
    /// # Panics
    /// With `TypeError` if `key` is not `None`, an int or a str (the only keys here); if `dict`
    /// is not a dict.
    #[track_caller]
    pub fn dict_set(&mut self, dict: ObjId, key: ObjId, value: ObjId) {
        let found = self.dict_find(dict, key, "__setitem__");
        self.incref(value);
        if !self.is_tracked(dict) && (self.may_be_tracked(key) || self.may_be_tracked(value)) {
            self.track(dict);
        }
        match found {
            Some(index) => {
                let old = std::mem::replace(&mut self.dict_entries_mut(dict)[index].1, value);
                self.decref(old);
            }
            None => {
                self.incref(key);
                let key_is_str = matches!(self.kind(key), Kind::Str(_));
                let Kind::Dict { entries, str_keys } = &mut self.object_mut(dict).kind else {
                    unreachable!("dict_find checked that it is a dict")
                };
                *str_keys &= key_is_str;
                entries.push((key, value));
            }
        }
    }

    /// `dict.get(key)`: the value, borrowed, or `None`.
    ///
    /// # Panics
    /// With `TypeError` if `key` is not a valid key; if `dict` is not a dict.
    #[track_caller]
    pub fn dict_get(&self, dict: ObjId, key: ObjId) -> Option<ObjId> {
        let index = self.dict_find(dict, key, "get")?;
        let Kind::Dict { entries, .. } = self.kind(dict) else {
            unreachable!("dict_find checked that it is a dict")
        };
        Some(entries[index].1)
    }

    /// `del dict[key]`: removes the entry (the others keep their order) and gives up its key,
    /// then its value. The dict stays tracked if it was.
    ///
    /// # Panics
    /// With `KeyError` if there is no such entry; if `dict` is not a dict.
    #[track_caller]
    pub fn dict_del(&mut self, dict: ObjId, key: ObjId) {
        let Some(index) = self.dict_find(dict, key, "__delitem__") else {
            panic!("KeyError: {}", self.repr(key))
        };
        let (old_key, old_value) = self.dict_entries_mut(dict).remove(index);
        self.decref(old_key);
        self.decref(old_value);
    }

    /// `obj.attr = value`: takes a reference to `value`, gives up the old value's.
    ///
    /// # Panics
    /// If `obj` is not an instance.
    #[track_caller]
    pub fn set_attr(&mut self, obj: ObjId, attr: &str, value: ObjId) {
        self.incref(value);
        let attrs = self.attrs_mut(obj, "set_attr");
        match attrs.iter_mut().find(|(name, _)| name == attr) {
            Some((_, slot)) => {
                let old = std::mem::replace(slot, value);
                self.decref(old);
            }
            None => attrs.push((attr.to_string(), value)),
        }
    }

    /// `obj.attr`: the value, borrowed, or `None` if it has no such attribute.
    ///
    /// # Panics
    /// If `obj` is not an instance.
    #[track_caller]
    pub fn get_attr(&self, obj: ObjId, attr: &str) -> Option<ObjId> {
        let Kind::Instance { attrs, .. } = self.kind(obj) else {
            panic!("get_attr: expected an instance, got {}", self.describe(obj))
        };
        attrs.iter().find(|(name, _)| name == attr).map(|&(_, v)| v)
    }

    /// `del obj.attr`: removes the attribute and gives up its value.
    ///
    /// # Panics
    /// With `AttributeError` if there is no such attribute; if `obj` is not an instance.
    #[track_caller]
    pub fn del_attr(&mut self, obj: ObjId, attr: &str) {
        let attrs = self.attrs_mut(obj, "del_attr");
        let Some(index) = attrs.iter().position(|(name, _)| name == attr) else {
            panic!("AttributeError: {attr}")
        };
        let (_, old) = attrs.remove(index);
        self.decref(old);
    }

    // Helpers.

    #[track_caller]
    fn list_items_mut(&mut self, list: ObjId, method: &str) -> &mut crate::object::Items {
        if !matches!(self.kind(list), Kind::List(_)) {
            self.not_supported(list, method)
        }
        match &mut self.object_mut(list).kind {
            Kind::List(items) => items,
            _ => unreachable!("checked above"),
        }
    }

    fn dict_entries_mut(&mut self, dict: ObjId) -> &mut Vec<(ObjId, ObjId)> {
        match &mut self.object_mut(dict).kind {
            Kind::Dict { entries, .. } => entries,
            _ => unreachable!("dict_find checked that it is a dict"),
        }
    }

    #[track_caller]
    fn attrs_mut(&mut self, obj: ObjId, method: &str) -> &mut Vec<(String, ObjId)> {
        if !matches!(self.kind(obj), Kind::Instance { .. }) {
            panic!(
                "{method}: expected an instance, got {} (only instances have attributes here)",
                self.describe(obj)
            )
        }
        match &mut self.object_mut(obj).kind {
            Kind::Instance { attrs, .. } => attrs,
            _ => unreachable!("checked above"),
        }
    }

    /// The index of the entry of `dict` whose key equals `key` (by value), or `None`.
    #[track_caller]
    fn dict_find(&self, dict: ObjId, key: ObjId, method: &str) -> Option<usize> {
        let wanted = self.kind(key);
        if !wanted.is_key() {
            match wanted {
                Kind::List(_) | Kind::Dict { .. } => {
                    panic!("TypeError: unhashable type: '{}'", self.type_name(key))
                }
                _ => panic!(
                    "this heap takes only None, ints and strs as dict keys, not {}",
                    self.with_article(key)
                ),
            }
        }
        let Kind::Dict { entries, .. } = self.kind(dict) else {
            self.not_supported(dict, method)
        };
        entries.iter().position(|&(k, _)| self.kind(k) == wanted)
    }

    /// `repr(id)` for an atom; containers are named by serial (`<list #3>`).
    pub(crate) fn repr(&self, id: ObjId) -> String {
        match self.kind(id) {
            Kind::None => "None".to_string(),
            Kind::Int(value) => value.to_string(),
            Kind::Str(value) => format!("'{value}'"),
            _ => format!("<{} #{}>", self.type_name(id), self.serial(id)),
        }
    }

    #[track_caller]
    fn not_supported(&self, id: ObjId, method: &str) -> ! {
        let type_name = self.type_name(id);
        match method {
            "__setitem__" => {
                panic!("TypeError: '{type_name}' object does not support item assignment")
            }
            "__delitem__" => {
                panic!("TypeError: '{type_name}' object does not support item deletion")
            }
            _ => panic!("AttributeError: '{type_name}' object has no attribute '{method}'"),
        }
    }
}
