"""Timings of the parts that must stay fast as data grows; each module has ``measure() -> dict[str, float]``."""
