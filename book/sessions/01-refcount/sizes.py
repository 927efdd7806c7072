# What a count costs: the size of a few small objects in CPython 3.11 (64-bit).
# mode: repl
import sys
sys.getsizeof(object())
sys.getsizeof(1.5)
sys.getsizeof([])
