"""Benchmarks and evaluation: tracking (TrackEval vs peer trackers), retrieval, routes, speed."""
