"""The cost model: pure functions from architecture, hardware and batch shape to bytes, FLOPs
and seconds. It never imports simpy (a test enforces it); the engine calls it, never the reverse.
"""
