# Memory comes back at once: the block a dead object leaves is the next object's of its size.
# mode: repl
a = object(); where = id(a); del a; b = object(); id(b) == where
