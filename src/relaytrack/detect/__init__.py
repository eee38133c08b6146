"""Object detection: NanoDet (80 COCO classes) on ONNX Runtime, with tiling for wide views and NMS."""

from relaytrack.detect.nanodet import Detector, nms

__all__ = ["Detector", "nms"]
