"""Appearance embeddings from an ONNX model: [N,3,H,W] crops in, [N,D] vectors out (L2-normalised here).

Three kinds, chosen by `describe.embedder`:
- 'parts' (the default): part-based colour and texture features (relaytrack.reid.graph), built in memory;
- a model file written by `relaytrack reid train` (the parts plus a projection learned from the store's own
  tracklets), or any compatible ONNX a user supplies (e.g. an OSNet export);
- 'imagenet': MobileNetV2 trained on ImageNet, kept as the baseline it is: not trained for re-identification.
A model with fixed input height and width gets crops of that size; otherwise crop_height x crop_width.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from relaytrack.config import DescribeConfig
from relaytrack.errors import ModelError

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
BUILTIN = ("parts", "imagenet")


def _parts_session(threads: int):
    import onnxruntime as ort

    from relaytrack.models.registry import session_options
    from relaytrack.reid import model as reid_model

    data = reid_model.model_bytes(reid_model.build())
    sess = ort.InferenceSession(data, sess_options=session_options(threads), providers=["CPUExecutionProvider"])
    return sess, data


class Embedder:
    def __init__(self, cfg: DescribeConfig | None = None, model: str | None = None) -> None:
        from relaytrack.models.registry import onnx_session, resolve

        self.cfg = cfg or DescribeConfig()
        self.name = model or self.cfg.embedder or "parts"
        if self.name == "parts":
            self.session, data = _parts_session(self.cfg.threads)
        elif self.name == "imagenet":
            self.session = onnx_session("embedder", None, threads=self.cfg.threads)
            data = resolve("embedder").read_bytes()
        else:
            path = Path(self.name)
            if not path.is_file():
                raise ModelError(f"{path}: embedder model file not found (or use one of: {', '.join(BUILTIN)})")
            self.session = onnx_session("embedder", path, threads=self.cfg.threads)
            data = path.read_bytes()
        # Identity of the weights: a store never mixes two models' vectors in one index.
        self.identity = hashlib.sha256(data).hexdigest()[:16]
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        fixed = [d if isinstance(d, int) and d > 0 else None for d in inp.shape[2:]]
        self.height = fixed[0] or self.cfg.crop_height
        self.width = fixed[1] or self.cfg.crop_width
        out = self.session.get_outputs()[0]
        self.output_name = out.name
        if len(out.shape) != 2:
            raise ModelError(f"{self.name}: embedder output must be [N, D], got {out.shape}")
        self._dim = out.shape[1] if isinstance(out.shape[1], int) else None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed([np.zeros((self.height, self.width, 3), np.uint8)]).shape[1])
        return self._dim

    def preprocess(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        import cv2

        h, w = self.height, self.width
        batch = np.empty((len(crops_bgr), 3, h, w), dtype=np.float32)
        for i, crop in enumerate(crops_bgr):
            if crop.shape[:2] != (h, w):
                crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if crop.shape[0] > h else cv2.INTER_LINEAR)
            rgb = crop[:, :, ::-1].astype(np.float32) / 255.0
            batch[i] = ((rgb - MEAN) / STD).transpose(2, 0, 1)
        return batch

    def features(self, crops_bgr: list[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """(N, D) float32, as the model gives them (not normalised)."""
        if not crops_bgr:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        outs = []
        for i in range(0, len(crops_bgr), batch_size):
            feats = self.session.run(
                [self.output_name], {self.input_name: self.preprocess(crops_bgr[i : i + batch_size])}
            )[0]
            outs.append(feats.astype(np.float32))
        return np.concatenate(outs)

    def embed(self, crops_bgr: list[np.ndarray], batch_size: int = 32) -> np.ndarray:
        """(N, D) float32, L2-normalised."""
        feats = self.features(crops_bgr, batch_size)
        return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-9)

    def embed_tracklet(self, crops_bgr: list[np.ndarray], weights: np.ndarray | None = None) -> np.ndarray:
        """One vector for a tracklet: the (quality-weighted) mean of its crops' normalised embeddings."""
        e = self.embed(crops_bgr)
        w = np.ones((len(e), 1), np.float32) if weights is None else np.asarray(weights, np.float32).reshape(-1, 1)
        m = (e * w).sum(axis=0)
        return (m / max(float(np.linalg.norm(m)), 1e-9)).astype(np.float32)
