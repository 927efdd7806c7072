# What it shows: what CPython 3.11's gc module refuses, in its own words, and what it accepts.
# gc.collect(g) takes 0, 1 or 2: anything else raises ValueError("invalid generation").
# gc.get_objects(g) raises for g >= 3 and for g < -1, but -1 means "no generation given", as
# None does: every tracked object. gc.set_threshold() takes any C int: a negative threshold 0
# is kept, and since count0 is always above it, every container allocation collects; a
# threshold 0 of 0 turns automatic collection off, whatever count0 is.
# CPython: gc_collect_impl, gc_get_objects_impl (its argument defaults to -1, and only
# `generation != -1` is checked), gc_set_threshold (PyArg_ParseTuple "i|ii"),
# _PyObject_GC_Link (`gcstate->generations[0].threshold` must be nonzero) (Modules/gcmodule.c).
# How it records: results are kept in lists and printed at the end (print() makes containers);
# the callback appends to `log` what it was given and gc.get_count(), whose 3-tuple it frees at
# once.
# After `gc.collect(); gc.freeze(); gc.collect()` nothing of the scenario is in a generation,
# the free lists are empty and the counts are 0: a new pyheap Heap and Gc. gc.set_threshold()
# gets its arguments in a tuple (METH_VARARGS), a container like any other.
# Rust test: labs/04-generations/tests/parity.rs, bad_input.
import gc

gc.disable()


class C:
    pass


errors = []
results = []
log = []


def on_gc(phase, info):
    log.append(phase)
    log.append(info["generation"])
    log.append(info["collected"])
    log.extend(gc.get_count())


def attempt(f, arg):
    try:
        f(arg)
        errors.append("no error")
    except ValueError as e:
        errors.append("ValueError: " + str(e))


# The errors first: a raised exception makes containers (the exception, its traceback, a frame
# object) and fills the free list of 1-tuples with its args, none of which pyheap has; the
# reset below forgets all that.
attempt(gc.collect, -1)
attempt(gc.collect, 3)
attempt(gc.get_objects, -2)
attempt(gc.get_objects, 3)
attempt(gc.get_objects, 5)

gc.collect()
gc.freeze()
gc.collect()

x = []
x.append(C())
results.append(len(gc.get_objects(-1)))
results.append(len(gc.get_objects()))
gc.callbacks.append(on_gc)
gc.set_threshold(-5)
results.append(gc.get_threshold())
gc.enable()
for i in range(5):
    x.append(C())
gc.set_threshold(0)
for i in range(1000):
    x.append(C())
gc.disable()
results.append(log.count("start"))
results.append(gc.get_count())

print("gc.collect(-1):", errors[0])
print("gc.collect(3):", errors[1])
print("gc.get_objects(-2):", errors[2])
print("gc.get_objects(3):", errors[3])
print("gc.get_objects(5):", errors[4])
print("len(gc.get_objects(-1)) == len(gc.get_objects()):", results[0] == results[1], results[0])
print("after gc.set_threshold(-5): gc.get_threshold() ==", results[2])
print("collections during 5 allocations, then 1000 more with gc.set_threshold(0):", results[3])
print("gc.get_count():", results[4])
