"""The per-camera pipeline: source -> detect -> track -> describe -> store, and the demo that runs it all."""
