# What a count costs: the size of a few small objects in CPython 3.11 (64-bit). The list and the
# dict include the collector's 16-byte head, which a dict has even while it is not tracked.
# mode: repl
import gc, sys
sys.getsizeof(object())
sys.getsizeof(1.5)
sys.getsizeof([])
gc.is_tracked({}), sys.getsizeof({})
