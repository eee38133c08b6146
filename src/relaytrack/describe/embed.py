"""Appearance embeddings from an ONNX feature extractor (default: MobileNetV2 ImageNet, 1280-d).

The default model is not trained for re-identification: it tells clothing and build apart reasonably, but
not two people in similar clothes. Any ONNX model with one [N,3,H,W] float input and one [N,D] output can
replace it (describe.embedder in config), e.g. an OSNet export.
"""

from __future__ import annotations

import numpy as np

from relaytrack.config import DescribeConfig
from relaytrack.errors import ModelError

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class Embedder:
    def __init__(self, cfg: DescribeConfig | None = None) -> None:
        from relaytrack.models.registry import onnx_session

        self.cfg = cfg or DescribeConfig()
        self.session = onnx_session("embedder", self.cfg.embedder, threads=self.cfg.threads)
        self.input_name = self.session.get_inputs()[0].name
        out = self.session.get_outputs()[0]
        self.output_name = out.name
        if len(out.shape) != 2:
            raise ModelError(f"{self.cfg.embedder or 'embedder'}: output must be [N, D], got {out.shape}")
        self._dim = out.shape[1] if isinstance(out.shape[1], int) else None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(
                self.embed([np.zeros((self.cfg.crop_height, self.cfg.crop_width, 3), np.uint8)]).shape[1]
            )
        return self._dim

    def preprocess(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        import cv2

        h, w = self.cfg.crop_height, self.cfg.crop_width
        batch = np.empty((len(crops_bgr), 3, h, w), dtype=np.float32)
        for i, crop in enumerate(crops_bgr):
            if crop.shape[:2] != (h, w):
                crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR)
            rgb = crop[:, :, ::-1].astype(np.float32) / 255.0
            batch[i] = ((rgb - MEAN) / STD).transpose(2, 0, 1)
        return batch

    def embed(self, crops_bgr: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
        """(N, D) float32, L2-normalised."""
        if not crops_bgr:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        outs = []
        for i in range(0, len(crops_bgr), batch_size):
            feats = self.session.run(
                [self.output_name], {self.input_name: self.preprocess(crops_bgr[i : i + batch_size])}
            )[0]
            outs.append(feats.astype(np.float32))
        feats = np.concatenate(outs)
        return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-9)
