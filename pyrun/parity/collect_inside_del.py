# What it shows: a __del__ run by the collector that calls gc.collect() gets 0 back at once: a
# collection is already running, and CPython never starts one inside another. The same call from
# a __del__ run by reference counting, outside any collection, collects.
# CPython: gc_collect_impl returns 0 when gcstate->collecting is set (Modules/gcmodule.c).
import gc

gc.disable()
results = []


class Curious:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        results.append((self.name, gc.collect()))


gc.collect()
gc.freeze()

x = Curious("in a cycle")
x.me = x
del x
gc.collect()
junk = []
junk.append(junk)
del junk
y = Curious("by reference counting")
del y
for name, n in results:
    print(name + ": gc.collect() returned", n)
