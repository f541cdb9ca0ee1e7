"""Selection: from curves and targets to a choice. Owns the operating point of a curve (inflection point or the
highest-throughput point meeting the latency targets), GIQ's cost formula, ranking by cost, HPA settings read off
the operating point, the --explain paragraph, and choose.py, the single choose step every plan uses.
Imports store/ (records only) and catalog/.
"""
