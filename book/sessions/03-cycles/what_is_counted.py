# What gc.collect() counts: tracked containers of the garbage, tuples included; and the
# generation it is given.
# mode: repl
import gc
a = []
a.append(a)
a.append(tuple([1, 2]))
a.append({"key": "value"})
a.append("text")
del a
gc.collect()
b = []
b.append(b)
b.append(tuple([1, 2]))
gc.collect()
del b
gc.collect()
gc.get_stats()[2]
gc.collect(3)
