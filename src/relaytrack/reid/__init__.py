"""Re-identification learned from the store's own footage.

`crops` gathers tracklets' best crops (from a store, or from MOTChallenge ground truth for benchmarks),
`graph` builds the part-based appearance features as an ONNX graph (colour, texture and CNN stripes), `learn`
fits a projection from free labels (same tracklet = same person; two tracklets in one frame = two people),
`model` writes and checks the trained ONNX model that `describe.embedder` loads, `metrics` scores cross-camera
retrieval. Nothing here reads identities to train: identities are for scoring only.
"""
