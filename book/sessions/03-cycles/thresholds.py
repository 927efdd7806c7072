# The thresholds of automatic collection, in three releases.
# python: 3.11 3.12 3.13
import gc
import sys

print(sys.version.split()[0], gc.get_threshold())
