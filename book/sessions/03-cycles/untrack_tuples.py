# A tuple is untracked by a collection that finds it can never be part of a cycle.
# mode: repl
import gc
outer = (tuple([1, 2]),)
gc.is_tracked(outer), gc.is_tracked(outer[0])
gc.collect()
gc.is_tracked(outer), gc.is_tracked(outer[0])
gc.collect()
gc.is_tracked(outer), gc.is_tracked(outer[0])
def pair():
    return (1, 2)

gc.is_tracked(pair())
gc.collect()
gc.is_tracked(pair())
