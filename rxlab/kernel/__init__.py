"""Exact kernel constants and formulas (pure Python, no numba).

Everything here follows a named kernel file and function; the engine and the
cost model take their geometry from this package and never recompute it.
"""
