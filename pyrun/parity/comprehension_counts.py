# What it shows: what a list comprehension allocates in CPython 3.11: it is a function of its own,
# made and called each time, with an iterator over the list it walks (a container too) and the
# list it builds. Measured with gc.get_count() after a full collection, which empties the free
# lists: the function and the iterator are counted and then freed, the new list stays.
# CPython 3.11: MAKE_FUNCTION + GET_ITER + CALL for a comprehension (PEP 709 inlined them in
# 3.12); list_iterator is a GC type (Objects/listobject.c).
import gc

gc.disable()
counts = []
source = [1, 2, 3]
gc.collect()
gc.freeze()
gc.collect()
counts.extend(gc.get_count())
squares = [n * n for n in source]
counts.extend(gc.get_count())
doubled = [n + n for n in range(3)]
counts.extend(gc.get_count())
print("before:", tuple(counts[0:3]))
print("after [n * n for n in source]:", tuple(counts[3:6]))
print("after [n + n for n in range(3)]:", tuple(counts[6:9]))
print(squares, doubled)
