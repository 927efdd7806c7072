# What it shows: gc.collect(0) looks at generation 0 only and moves its survivors to
# generation 1; gc.collect(1) takes generations 0 and 1 and moves survivors to generation 2;
# a full collection keeps them in 2. So a cycle that became garbage after it was promoted is
# not found by gc.collect(0) (0), only by a collection of its generation (1). A young cycle
# that an old list refers to survives a young collection: the old list is outside the
# collected set, so its reference counts as an outside one.
# Where an object is: gc.get_objects(g) lists generation g (membership of one object is
# deterministic; the lengths of the generations are not).
# CPython: gc_collect_main merges the younger generations into GEN_HEAD(generation) and the
# survivors into the next one (Modules/gcmodule.c).
# Rust test: labs/03-cycles/tests/parity.rs, generations.
import gc

gc.disable()


def generation_of(obj):
    for g in range(3):
        for o in gc.get_objects(g):
            if o is obj:
                return g
    return None


gc.collect()
gc.freeze()

a = []
a.append(a)
print("new: generation", generation_of(a))
gc.collect(0)
print("after gc.collect(0): generation", generation_of(a))
gc.collect(0)
print("after gc.collect(0) again: generation", generation_of(a))
gc.collect(1)
print("after gc.collect(1): generation", generation_of(a))
gc.collect()
print("after gc.collect(): generation", generation_of(a))
del a
n = gc.collect(0)
print("del a (generation 2): gc.collect(0):", n)
n = gc.collect(1)
print("gc.collect(1):", n)
n = gc.collect(2)
print("gc.collect(2):", n)
old = []
gc.collect()
young = []
young.append(young)
old.append(young)
del young
n = gc.collect(0)
print("young cycle held by an old list: gc.collect(0):", n)
print("old[0] is in generation", generation_of(old[0]))
old.clear()
n = gc.collect(0)
print("after old.clear(): gc.collect(0):", n)
n = gc.collect(1)
print("gc.collect(1):", n)
