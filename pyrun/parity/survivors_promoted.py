# What it shows: an object that survives collections moves up the generations: made in
# generation 0, promoted to 1 by a collection of generation 0, to 2 by a collection of
# generation 1, and kept in 2 by a full collection. Its garbage neighbour is found only by a
# collection of the generation it reached.
# CPython: gc_collect_main merges the survivors into the next generation (Modules/gcmodule.c).
import gc

gc.disable()


def generation_of(obj):
    for g in range(3):
        objects = gc.get_objects(g)
        for k in range(len(objects)):
            if objects[k] is obj:
                return g
    return None


gc.collect()
gc.freeze()

keep = []
cycle = []
cycle.append(cycle)
print("new:", generation_of(keep), generation_of(cycle))
gc.collect(0)
print("after gc.collect(0):", generation_of(keep), generation_of(cycle))
gc.collect(1)
print("after gc.collect(1):", generation_of(keep), generation_of(cycle))
del cycle
print("gc.collect(0) finds:", gc.collect(0))
print("gc.collect(1) finds:", gc.collect(1))
print("gc.collect(2) finds:", gc.collect(2))
print("keep is in generation", generation_of(keep))
