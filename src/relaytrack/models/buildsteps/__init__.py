"""Scripts run inside the throw-away converter virtualenvs by `relaytrack models build`.

They are files, not library code: tf_convert.py and torch_export.py import TensorFlow/tf2onnx or PyTorch
and run only there; tfjs_fix.py is stdlib-only so that the project's tests can exercise it.
"""
