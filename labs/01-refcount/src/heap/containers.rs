//! Containers: the third place a count goes up. Storing an object in a list, a dict or an
//! attribute stores a reference, which the container gives up when the object is replaced or
//! removed, or when the container itself is destroyed.
//!
//! Every operation here *borrows* its arguments, like `PyList_Append` and `PyDict_SetItem`: the
//! container takes its own reference with [`incref`](Heap::incref), and the caller keeps (and
//! still has to release) whatever references it had. (`PyList_SetItem` and `PyTuple_SetItem`
//! "steal" the reference instead; the C API documents which functions do, and most do not.)
//! Reading operations return *borrowed* references, except [`list_pop`](Heap::list_pop), which
//! hands the list's reference over to the caller.

use super::hooks::HeapHooks;
use super::object::{Kind, ObjId};
use super::slots::Heap;

impl<H: HeapHooks> Heap<H> {
    // ANCHOR: list_append
    /// `list.append(item)` (`PyList_Append`): the list stores `item` at its end and takes a
    /// reference to it. `item` is borrowed.
    ///
    /// # Panics
    /// If `list` is not a list, or either object was already destroyed.
    pub fn list_append(&mut self, list: ObjId, item: ObjId) {
        // TODO: afterwards `item` is the list's last item and holds one more reference for it
        //       (`self.list_items_mut(list, "append")` gives the items, and panics if `list` is not
        //       a list)
        todo!()
    }
    // ANCHOR_END: list_append

    /// `list[index] = item` (`PySequence_SetItem`): the list takes a reference to `item` and gives
    /// up the one it held at `index`, which may destroy the old item. `item` is borrowed.
    ///
    /// # Panics
    /// With `IndexError` if `index` is out of range; if `list` is not a list.
    pub fn list_set(&mut self, list: ObjId, index: usize, item: ObjId) {
        // TODO: afterwards `list[index]` is `item`, which holds one more reference for it, and the
        //       old item one fewer (destroyed if that was its last); `l[0] = l[0]` works as in
        //       Python. An index past the end is Python's error, raised before anything changes: a
        //       panic with "IndexError: list assignment index out of range"
        todo!()
    }

    /// `list.pop()`: removes the last item and returns it as a NEW reference, owned by the caller.
    /// The list's reference is handed over rather than given up, so the item's count does not
    /// change; the caller must [`decref`](Heap::decref) it (or bind and then decref it) when done.
    ///
    /// # Panics
    /// With `IndexError` if the list is empty; if `list` is not a list.
    pub fn list_pop(&mut self, list: ObjId) -> ObjId {
        // TODO: afterwards the list is one item shorter and its reference to that item belongs to
        //       the caller (a new reference); no count changes. An empty list is Python's error: a
        //       panic with "IndexError: pop from empty list"
        todo!()
    }

    /// `list[index]` (`PyList_GetItem`): the item, as a borrowed reference.
    ///
    /// # Panics
    /// With `IndexError` if `index` is out of range; if `list` is not a list.
    pub fn list_get(&self, list: ObjId, index: usize) -> ObjId {
        let Kind::List(items) = self.kind(list) else {
            panic!("list_get: expected a list, got {}", self.describe(list))
        };
        *items
            .get(index)
            .unwrap_or_else(|| panic!("IndexError: list index out of range"))
    }

    /// `len(id)`: the number of items of a list, tuple or dict, or of characters of a str.
    ///
    /// # Panics
    /// With `TypeError` for an int or an instance.
    pub fn len(&self, id: ObjId) -> usize {
        match self.kind(id) {
            Kind::List(items) | Kind::Tuple(items) => items.len(),
            Kind::Dict(entries) => entries.len(),
            Kind::Str(s) => s.chars().count(),
            other => panic!(
                "TypeError: object of type '{}' has no len()",
                other.type_name()
            ),
        }
    }

    /// `dict[key] = value` (`PyDict_SetItem`). If the dict has an entry whose key equals `key`,
    /// that entry keeps its key object and takes a reference to `value`, giving up the one to its
    /// old value. Otherwise a new entry is added at the end, holding a reference to `key` and one
    /// to `value`. Both are borrowed.
    ///
    /// # Panics
    /// With `TypeError` if `key` is not an int or a str (this heap's only hashable types); if
    /// `dict` is not a dict.
    pub fn dict_set(&mut self, dict: ObjId, key: ObjId, value: ObjId) {
        let found = self.dict_find(dict, key, "__setitem__");
        // TODO: afterwards the dict has exactly one entry whose key equals `key`, holding `value`:
        //       an existing entry (`found` is its index) keeps its key object and position and
        //       gives up its old value (destroyed if that was its last reference); a new entry goes
        //       at the end and holds one reference to `key` and one to `value`. `d[k] = d[k]` works
        //       as in Python
        todo!()
    }

    /// `dict[key]` (`PyDict_GetItem`): the value of the entry whose key equals `key`, as a
    /// borrowed reference, or `None`.
    ///
    /// # Panics
    /// With `TypeError` if `key` is not an int or a str; if `dict` is not a dict.
    pub fn dict_get(&self, dict: ObjId, key: ObjId) -> Option<ObjId> {
        let index = self.dict_find(dict, key, "get")?;
        let Kind::Dict(entries) = self.kind(dict) else {
            unreachable!("dict_find checked that it is a dict")
        };
        Some(entries[index].1)
    }

    /// `del dict[key]` (`PyDict_DelItem`): removes the entry whose key equals `key`, keeping the
    /// other entries in order, and gives up the entry's references to its key and its value (the
    /// key first), which may destroy them.
    ///
    /// # Panics
    /// With `KeyError` if there is no such entry; with `TypeError` if `key` is not an int or a str;
    /// if `dict` is not a dict.
    pub fn dict_del(&mut self, dict: ObjId, key: ObjId) {
        let found = self.dict_find(dict, key, "__delitem__");
        // TODO: afterwards no entry's key equals `key`, the other entries are still in insertion
        //       order, and the removed entry's key and value hold one reference fewer each,
        //       released key first (either may be destroyed). A missing key is Python's error: a
        //       panic with "KeyError: " and the key's `self.repr(key)`
        todo!()
    }

    /// `obj.attr = value`: the instance takes a reference to `value`, and gives up the one to the
    /// attribute's old value, if it had one. `value` is borrowed.
    ///
    /// # Panics
    /// If `obj` is not an instance.
    pub fn set_attr(&mut self, obj: ObjId, attr: &str, value: ObjId) {
        // TODO: afterwards `obj.attr` is `value`, which holds one more reference for it; the
        //       attribute's old value, if it had one, holds one fewer (destroyed if that was its
        //       last); a new attribute goes after the others (`self.attrs_mut(obj)`). `o.x = o.x`
        //       works as in Python
        todo!()
    }

    /// `obj.attr`: the attribute's value as a borrowed reference, or `None` if it has none.
    /// (CPython's `PyObject_GetAttr` returns a new reference; this is the `__dict__` lookup inside
    /// it.)
    ///
    /// # Panics
    /// If `obj` is not an instance.
    pub fn get_attr(&self, obj: ObjId, attr: &str) -> Option<ObjId> {
        let Kind::Instance { attrs, .. } = self.kind(obj) else {
            panic!("get_attr: expected an instance, got {}", self.describe(obj))
        };
        attrs
            .iter()
            .find(|(name, _)| name == attr)
            .map(|&(_, value)| value)
    }

    // Helpers for the operations above.

    /// The items of `list`, mutably, for the list method `method`.
    ///
    /// # Panics
    /// With an `AttributeError` or `TypeError` if `list` is not a list.
    pub(super) fn list_items_mut(&mut self, list: ObjId, method: &str) -> &mut Vec<ObjId> {
        if !matches!(self.kind(list), Kind::List(_)) {
            self.not_supported(list, method)
        }
        match &mut self.object_mut(list).kind {
            Kind::List(items) => items,
            _ => unreachable!("checked above"),
        }
    }

    /// The entries of `dict`, mutably, for the dict method `method`.
    ///
    /// # Panics
    /// If `dict` is not a dict.
    pub(super) fn dict_entries_mut(
        &mut self,
        dict: ObjId,
        method: &str,
    ) -> &mut Vec<(ObjId, ObjId)> {
        if !matches!(self.kind(dict), Kind::Dict(_)) {
            self.not_supported(dict, method)
        }
        match &mut self.object_mut(dict).kind {
            Kind::Dict(entries) => entries,
            _ => unreachable!("checked above"),
        }
    }

    /// The attributes of the instance `obj`, mutably.
    ///
    /// # Panics
    /// If `obj` is not an instance.
    pub(super) fn attrs_mut(&mut self, obj: ObjId) -> &mut Vec<(String, ObjId)> {
        if !matches!(self.kind(obj), Kind::Instance { .. }) {
            panic!(
                "set_attr: expected an instance, got {} (this heap gives attributes only to \
                 instances)",
                self.describe(obj)
            )
        }
        match &mut self.object_mut(obj).kind {
            Kind::Instance { attrs, .. } => attrs,
            _ => unreachable!("checked above"),
        }
    }

    /// The index of the entry of `dict` whose key equals `key` (compared by value: two int
    /// objects holding 1 are the same key), or `None`.
    ///
    /// # Panics
    /// With `TypeError: unhashable type` if `key` is a list or a dict; if `key` is a tuple or an
    /// instance (hashable in Python, but not dict keys in this heap); if `dict` is not a dict.
    pub(super) fn dict_find(&self, dict: ObjId, key: ObjId, method: &str) -> Option<usize> {
        let wanted = self.kind(key);
        match wanted {
            Kind::Int(_) | Kind::Str(_) => {}
            Kind::List(_) | Kind::Dict(_) => {
                panic!("TypeError: unhashable type: '{}'", wanted.type_name())
            }
            Kind::Tuple(_) | Kind::Instance { .. } => panic!(
                "this heap takes only ints and strs as dict keys, not {} (Python would hash it)",
                wanted.with_article()
            ),
        }
        let Kind::Dict(entries) = self.kind(dict) else {
            self.not_supported(dict, method)
        };
        entries.iter().position(|&(k, _)| self.kind(k) == wanted)
    }

    /// `repr(id)` for an atom (`7`, `'hi'`); containers are named by serial (`<list #3>`).
    pub(super) fn repr(&self, id: ObjId) -> String {
        match self.kind(id) {
            Kind::Int(value) => value.to_string(),
            Kind::Str(value) => format!("'{value}'"),
            other => format!("<{} #{}>", other.type_name(), self.serial(id)),
        }
    }

    /// Panics the way Python does when an object lacks a method.
    pub(super) fn not_supported(&self, id: ObjId, method: &str) -> ! {
        let type_name = self.kind(id).type_name();
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
