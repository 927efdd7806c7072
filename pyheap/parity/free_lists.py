# What it shows: which allocations move gc.get_count()[0]. Making and dropping a list, a dict or
# a small tuple in a loop moves it by 2 in all, however long the loop: the dropped object goes to
# a free list, and the next allocation takes it back, with neither counted. A free list holds
# at most 80 lists (or 80 dicts, or 2000 tuples of one size); beyond that, a death counts -1.
# 3.11 puts a dead 20-tuple on its free list but never takes one from it, so each 20-tuple
# counts +1 and its death 0. Instances have no free list. A full collection empties the free
# lists, so the next list after it counts again.
# CPython: PyList_New and list_dealloc (Objects/listobject.c, PyList_MAXFREELIST 80), new_dict
# and dict_dealloc (dictobject.c, PyDict_MAXFREELIST 80), maybe_freelist_pop and
# maybe_freelist_push (tupleobject.c: `size < PyTuple_MAXSAVESIZE` to take, `index <
# PyTuple_NFREELISTS` to put), clear_freelists (Modules/gcmodule.c).
# How it measures: seen.extend(gc.get_count()) reads the counts, then frees the 3-tuple it got,
# which goes to the free list of 3-tuples: after the first call, measuring costs nothing. No
# other statement allocates a container (no comprehension, no for over a list or tuple: their
# iterators are containers). print() runs at the end only.
# Run by the course's interpreter: pyrun/tests/parity.rs (`cargo xtask run` runs it by hand).
import gc

gc.disable()
seen = []


def count():
    seen.extend(gc.get_count())


def make_and_drop_lists(n):
    for i in range(n):
        x = []


def make_and_drop_dicts(n):
    for i in range(n):
        x = {}


def make_and_drop_tuples(size, n):
    r = range(size)
    for i in range(n):
        x = tuple(r)


class C:
    pass


def make_and_drop_instances(n):
    for i in range(n):
        x = C()


# Everything above allocated containers (the list, the functions, the class); a full collection
# then empties the free lists, and gc.freeze() sets the three counts to 0.
gc.collect()
gc.freeze()
count()
make_and_drop_lists(1000)
count()
held = []
for i in range(100):
    held.append([])
count()
del held
count()
make_and_drop_lists(100)
count()
make_and_drop_dicts(1000)
count()
make_and_drop_tuples(1, 1000)
count()
make_and_drop_tuples(19, 1000)
count()
make_and_drop_tuples(20, 1000)
count()
make_and_drop_tuples(21, 1000)
count()
make_and_drop_instances(1000)
count()
gc.collect()
count()
x = []
count()

steps = [
    "start",
    "1000 lists made and dropped",
    "100 lists held in a list",
    "del held (101 lists die, 80 fit on the free list)",
    "100 lists made and dropped (all from the free list)",
    "1000 dicts made and dropped",
    "1000 1-tuples made and dropped",
    "1000 19-tuples made and dropped",
    "1000 20-tuples made and dropped",
    "1000 21-tuples made and dropped",
    "1000 instances made and dropped",
    "gc.collect()",
    "x = [] after gc.collect()",
]
for k in range(len(steps)):
    print(steps[k] + ":", tuple(seen[3 * k : 3 * k + 3]))
