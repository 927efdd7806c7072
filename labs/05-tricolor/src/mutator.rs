//! The mutator: the program whose objects are collected. It allocates objects, keeps them in its
//! roots (a stack, like the local variables of the frames it is running), and stores references
//! into objects. It can only reach what its roots reach: to use an object deeper in the graph
//! it loads it into a root first ([`Heap::push_root`] of a field's value).
//!
//! ```text
//!   let a = heap.new_object("A");       a = Node()          roots: [A]
//!   let b = heap.new_object("B");       b = Node()          roots: [A, B]
//!   heap.set_field(a, "next", Some(b)); a.next = b          a store: goes through the barrier
//!   heap.pop_root();                    (b goes out of scope) roots: [A]; B is still reachable
//! ```
//!
//! Every store into an object (a field, a list item, `append`, `pop`) calls
//! [`Heap::write_barrier`] with the reference it overwrites and the one it writes, before it
//! stores. Pushing and popping roots does not: that is what makes roots cheap, and why some
//! collectors scan them again at the end.
//!
//! Every operation refuses an object the sweep has freed ([`TricolorError::Swept`]): with a
//! correct collector the program can never reach one.

use pyheap::{Kind, ObjId};

use crate::error::TricolorError;
use crate::heap::Heap;

impl Heap {
    /// `name = Node()`: a new instance with no fields, pushed on the root stack. Its colour is
    /// white between cycles, and [`allocation_color`](Heap::allocation_color)'s while marking.
    /// An empty `name` makes an unnamed object (messages call it `#serial`).
    pub fn new_object(&mut self, name: &str) -> ObjId {
        let id = self.py.new_instance(self.node);
        self.adopt(id, name)
    }

    /// `name = []`: a new empty list, pushed on the root stack, coloured as
    /// [`new_object`](Heap::new_object) colours.
    pub fn new_list(&mut self, name: &str) -> ObjId {
        let id = self.py.new_list();
        self.adopt(id, name)
    }

    /// Pushes `id` on the root stack (a local variable now holds it). No barrier.
    ///
    /// # Errors
    /// [`TricolorError::Swept`] if `id` was swept.
    pub fn push_root(&mut self, id: ObjId) -> Result<(), TricolorError> {
        self.check_live(id)?;
        self.count_mutator_op();
        self.py.incref(id);
        self.roots.push(id);
        Ok(())
    }

    /// Pops the top of the root stack and returns it (the variable goes out of scope). No
    /// barrier.
    ///
    /// # Errors
    /// [`TricolorError::NoRoots`] if there is no root.
    pub fn pop_root(&mut self) -> Result<ObjId, TricolorError> {
        let id = self.roots.pop().ok_or(TricolorError::NoRoots)?;
        self.count_mutator_op();
        self.py.decref(id);
        Ok(id)
    }

    /// `obj.field = value` (`None` for `obj.field = None`), through the write barrier. A field
    /// set for the first time gets a new slot, after the others.
    ///
    /// # Errors
    /// [`TricolorError::Swept`] if `obj` or `value` was swept; [`TricolorError::NoAttribute`]
    /// if `obj` is a list.
    pub fn set_field(
        &mut self,
        obj: ObjId,
        field: &str,
        value: Option<ObjId>,
    ) -> Result<(), TricolorError> {
        self.check_instance(obj, field)?;
        if let Some(value) = value {
            self.check_live(value)?;
        }
        self.count_mutator_op();
        let old = self
            .py
            .get_attr(obj, field)
            .filter(|&old| old != self.py.none());
        self.write_barrier(old, value);
        let stored = value.unwrap_or(self.py.none());
        self.py.set_attr(obj, field, stored);
        Ok(())
    }

    /// `obj.field`: the object it refers to, or `None`.
    ///
    /// # Errors
    /// [`TricolorError::Swept`] if `obj` was swept; [`TricolorError::NoAttribute`] if `obj` is a
    /// list or has never had `field` set.
    pub fn field(&self, obj: ObjId, field: &str) -> Result<Option<ObjId>, TricolorError> {
        self.check_instance(obj, field)?;
        match self.py.get_attr(obj, field) {
            Some(value) => Ok((value != self.py.none()).then_some(value)),
            None => Err(TricolorError::NoAttribute {
                type_name: "Node".into(),
                attribute: field.into(),
            }),
        }
    }

    /// `list.append(item)`, through the write barrier (it overwrites nothing).
    ///
    /// # Errors
    /// [`TricolorError::Swept`] if `list` or `item` was swept; [`TricolorError::NoAttribute`]
    /// if `list` is not a list.
    pub fn append(&mut self, list: ObjId, item: ObjId) -> Result<(), TricolorError> {
        self.check_list(list, "append")?;
        self.check_live(item)?;
        self.count_mutator_op();
        self.write_barrier(None, Some(item));
        self.py.list_append(list, item);
        Ok(())
    }

    /// `list[index] = item` (`None` for `list[index] = None`), through the write barrier.
    ///
    /// # Errors
    /// [`TricolorError::Swept`] if `list` or `item` was swept; [`TricolorError::NoAttribute`]
    /// if `list` is not a list; [`TricolorError::Index`] if `index` is out of range.
    pub fn set_item(
        &mut self,
        list: ObjId,
        index: usize,
        item: Option<ObjId>,
    ) -> Result<(), TricolorError> {
        self.check_list(list, "__setitem__")?;
        if let Some(item) = item {
            self.check_live(item)?;
        }
        if index >= self.slot_count(list) {
            return Err(TricolorError::Index {
                message: "list assignment index out of range".into(),
            });
        }
        self.count_mutator_op();
        let old = self.slot(list, index);
        self.write_barrier(old, item);
        let stored = item.unwrap_or(self.py.none());
        self.py.list_set(list, index, stored);
        Ok(())
    }

    /// `list.pop()` as a statement: removes the last item, through the write barrier (it
    /// deletes a reference), and returns what it was. The item is not kept anywhere: push it as
    /// a root to keep it.
    ///
    /// # Errors
    /// [`TricolorError::Swept`] if `list` was swept; [`TricolorError::NoAttribute`] if `list`
    /// is not a list; [`TricolorError::Index`] if it is empty.
    pub fn pop_item(&mut self, list: ObjId) -> Result<Option<ObjId>, TricolorError> {
        self.check_list(list, "pop")?;
        let len = self.slot_count(list);
        if len == 0 {
            return Err(TricolorError::Index {
                message: "pop from empty list".into(),
            });
        }
        self.count_mutator_op();
        let old = self.slot(list, len - 1);
        self.write_barrier(old, None);
        let popped = self.py.list_pop(list);
        self.py.decref(popped);
        Ok(old)
    }

    /// `list[index]`: the object it holds, or `None`.
    ///
    /// # Errors
    /// [`TricolorError::Swept`] if `list` was swept; [`TricolorError::NoAttribute`] if `list`
    /// is not a list; [`TricolorError::Index`] if `index` is out of range.
    pub fn item(&self, list: ObjId, index: usize) -> Result<Option<ObjId>, TricolorError> {
        self.check_list(list, "__getitem__")?;
        if index >= self.slot_count(list) {
            return Err(TricolorError::Index {
                message: "list index out of range".into(),
            });
        }
        Ok(self.slot(list, index))
    }

    /// `len(list)`.
    ///
    /// # Errors
    /// As [`item`](Heap::item), but never an index error.
    pub fn len(&self, list: ObjId) -> Result<usize, TricolorError> {
        self.check_list(list, "__len__")?;
        Ok(self.slot_count(list))
    }

    // Helpers.

    /// Records the new object `id` (the constructor's reference becomes the heap's own) and
    /// pushes it as a root.
    fn adopt(&mut self, id: ObjId, name: &str) -> ObjId {
        self.record_new(id, name);
        self.count_mutator_op();
        self.py.incref(id);
        self.roots.push(id);
        id
    }

    fn check_live(&self, id: ObjId) -> Result<(), TricolorError> {
        if self.is_live(id) {
            return Ok(());
        }
        let name = match self.record(id) {
            Some(_) => self.name(id),
            None => format!("{id:?}"),
        };
        Err(TricolorError::Swept { name })
    }

    fn check_instance(&self, obj: ObjId, field: &str) -> Result<(), TricolorError> {
        self.check_live(obj)?;
        match self.py.kind(obj) {
            Kind::Instance { .. } => Ok(()),
            _ => Err(TricolorError::NoAttribute {
                type_name: self.py.type_name(obj).into(),
                attribute: field.into(),
            }),
        }
    }

    fn check_list(&self, list: ObjId, method: &str) -> Result<(), TricolorError> {
        self.check_live(list)?;
        match self.py.kind(list) {
            Kind::List(_) => Ok(()),
            _ => Err(TricolorError::NoAttribute {
                type_name: self.py.type_name(list).into(),
                attribute: method.into(),
            }),
        }
    }
}
