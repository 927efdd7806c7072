# What it shows: with gc.set_threshold(20), a loop that makes a two-list cycle per iteration gets
# a collection of generation 0 every time count0 passes 20, in the middle of the loop, inside the
# allocation that pushed it over. The first collection comes at the 21st list; then the freed
# lists refill the list free list (80 places), and the next 21 lists it serves are not counted,
# so collections come further apart until the free list is full.
# CPython: _PyObject_GC_Link and gc_collect_generations (Modules/gcmodule.c); PyList_New's free
# list (Objects/listobject.c).
# How it records: the callback logs the phase, the generation, what was collected and the
# iteration; everything is printed at the end (print makes containers).
import gc

gc.disable()
log = []


def on_gc(phase, info):
    if phase == "stop":
        log.append(i)
        log.append(info["generation"])
        log.append(info["collected"])


i = None
gc.set_threshold(20, 10, 10)
gc.collect()
gc.freeze()
gc.collect()
gc.callbacks.append(on_gc)
gc.enable()
for i in range(300):
    a = []
    b = [a]
    a.append(b)
gc.disable()
gc.callbacks.clear()
for k in range(0, len(log), 3):
    print("i =", log[k], "generation", log[k + 1], "collected", log[k + 2])
