"""Offline ONNX models: where they come from, where they are found, and how a session is opened."""
