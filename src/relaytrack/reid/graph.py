"""Part-based appearance features written as an ONNX graph, so that one model file does everything.

The features are those re-identification without labels has long relied on, computed on horizontal body
stripes (8 fine stripes, 4 coarse ones and the whole body), each pixel weighted by how unlike it is to the
pavement seen at the crop's sides in its row (and towards the box centre), plus the body's width per stripe
(measured on tuning towns: cross-camera rank-1 0.66 -> 0.79 raw, 0.82 -> 0.89 learned, against the centre
weighting alone):
- colour that survives a change of camera: a joint soft histogram of chromaticity (r, g = R/sum, G/sum), which a
  global change of brightness leaves alone, a dark bin where chromaticity means nothing, and a histogram of
  intensity relative to the crop's own mean (night and day cameras differ in gain, not in contrast);
- texture: oriented gradient energy (8 directions), relative to the crop's brightness (stripes, prints, logos);
- optionally the ImageNet CNN's last feature map pooled per stripe (what a network sees that colour misses);
- local maxima (since session 23): 16 rows cut into 8 windows across, per row the most of each colour and
  texture bin that one window holds, as LOMO does (tuning towns, ground-truth tracklets, a model learned on
  two other towns: mean rank-1 per town 0.83 -> 0.86 over three training seeds);
- balanced chromaticity (since session 24): the same chromaticity histogram once more, of the crop
  white-balanced by its side columns (the pavement and walls beside the person, grey on average), so that
  the colour of the light a camera sees the person in (a street lamp, dusk) cancels out; every feature is
  computed on a 64 x 32 crop (it was 128 x 64: with the balanced histogram the coarser picture matched people
  better on the tuning towns, at 0.4x the cost; see `FeatureSpec`);
- compressed and block-scaled (since session 25): every pooled value raised to the power 0.15 (a square root
  before), each block of stripes (8, 4, 1, the rows of local maxima) at unit length (tuning towns 0.906 ->
  0.925, held-out 0.833 -> 0.856; see `FeatureSpec.power`, `FeatureSpec.block_norm`).
The graph takes the embedder's usual input (float [N,3,H,W], RGB / 255 with ImageNet mean and std) so that
`describe.embedder` can load it like any other appearance model; `model.write_model` appends the learned
projection. Written as a graph (not NumPy) so that training and serving can never compute different features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
CNN_MAP = "/features/features.18/features.18.2/Clip_output_0"  # MobileNetV2's last map, before pooling


@dataclass(frozen=True)
class FeatureSpec:
    # 64 x 32 since session 24 (128 x 64 before). Tuning towns 101-109, mean rank-1 of a model learned on
    # two towns and scored on the other seven (three pairs): without the balanced chromaticity 128 x 64 0.886,
    # 96 x 48 0.892, 64 x 32 0.883; with it 128: 0.897, 96: 0.902, 80: 0.903, 64: 0.906, 48: 0.904. A
    # tracklet of 10 crops at 64 x 32 with it costs 0.4x what 128 x 64 without it did.
    height: int = 64
    width: int = 32
    stripes: tuple[int, ...] = (8, 4, 1)
    chroma_bins: int = 6  # per axis of the (r, g) chromaticity plane
    intensity_bins: int = 8
    orientations: int = 8
    cnn: bool = False  # add MobileNetV2 stripes (needs the ImageNet embedder model)
    foreground: bool = True  # weight pixels by unlikeness to the crop's side columns; add the width profile
    # Local maxima (LOMO-style): `local_max[0]` rows, each cut into `local_max[1]` windows across; per row,
    # the most of each colour/texture bin any one window holds. A stripe's mean mixes the torso with the arm
    # or the bag on the side the camera sees; the maximum keeps what is there whichever side it is on.
    # (0, 0) leaves them out (the features of models written before session 23).
    local_max: tuple[int, int] = (16, 8)
    # Chromaticity of the crop white-balanced by its side columns, beside the plain one (False: the features
    # of models written before session 24).
    balanced_chroma: bool = True
    # Every pooled colour and texture value is raised to this power (0.5, a square root, before session 25;
    # the optional CNN stripes keep their square root and are not block-scaled: untried with them).
    # A stronger compression keeps a bin that a few pixels fill from being drowned by the one the whole
    # stripe fills, as LOMO's log does. Tuning towns 101-109 (as above, the feature maps of 0.5 taken again
    # to a power q): q 1 0.906, 0.5 0.914, 0.4 0.915, 0.35 0.918, 0.3 0.920, 0.25 0.918, 0.2 0.917, 0.15
    # 0.912; at q 0.3 two other training seeds 0.916 / 0.916 against 0.904 / 0.909; without learning
    # (cosine of the features) 0.821 -> 0.850.
    power: float = 0.15
    # Each block of pooled features (the 8, the 4 and the 1 stripes, the rows of local maxima) scaled to unit
    # length, so that no block outweighs the others by its size or by how bright the crop is (HOG's block
    # normalisation). Tuning towns as above, at power 0.15, training seeds 0 / 1 / 2: 0.920 / 0.916 / 0.916
    # -> 0.925 / 0.921 / 0.924. False: the features of models written before session 25.
    block_norm: bool = True

    @property
    def colour_channels(self) -> int:
        return self.chroma_bins**2 * (1 + int(self.balanced_chroma)) + 1 + self.intensity_bins

    @property
    def channels(self) -> int:
        return self.colour_channels + self.orientations

    def dim(self, cnn_channels: int = 1280) -> int:
        d = (self.channels + int(self.foreground)) * sum(self.stripes) + self.channels * self.local_max[0]
        if self.cnn:
            d += cnn_channels * (self.height // 32)
        return d


def _oriented_kernels(n: int) -> np.ndarray:
    sx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32) / 8.0
    sy = sx.T.copy()
    th = np.arange(n) * (2 * np.pi / n)
    return np.stack([np.cos(t) * sx + np.sin(t) * sy for t in th])[:, None].astype(np.float32)  # [n,1,3,3]


def _centre_prior(h: int, w: int) -> np.ndarray:
    xs = (np.arange(w) + 0.5) / w - 0.5
    return np.broadcast_to(np.exp(-(xs**2) / (2 * 0.22**2)), (h, w)).astype(np.float32)[None, None]


class _G:
    """A small helper that names nodes and constants while a graph is written."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def name(self, base: str) -> str:
        self.n += 1
        return f"rt_{base}_{self.n}"

    def const(self, value: np.ndarray, base: str = "c") -> str:
        from onnx import numpy_helper

        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(value), nm))
        return nm

    def op(self, op: str, inputs: list[str], base: str | None = None, **attrs) -> str:
        from onnx import helper

        out = self.name(base or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def axes(self, *ax: int) -> str:
        return self.const(np.array(ax, np.int64), "axes")


def _soft_hist(g: _G, x: str, centres: np.ndarray, sigma: float) -> str:
    """[N,1,H,W] -> [N,K,H,W] memberships summing to 1 over K (each pixel votes once, softly)."""
    c = g.const(centres.astype(np.float32).reshape(1, -1, 1, 1), "centres")
    d = g.op("Sub", [x, c])
    e = g.op("Exp", [g.op("Mul", [g.op("Mul", [d, d]), g.const(np.float32(-0.5 / sigma**2))])])
    s = g.op("ReduceSum", [e, g.axes(1)], keepdims=1)
    return g.op("Div", [e, g.op("Add", [s, g.const(np.float32(1e-6))])])


def _side_columns(g: _G, rgb: str, w: int) -> list[str]:
    """The crop's left and right edge columns ([N,3,H,side] each): what the features take for the background
    beside the person (the foreground weight and the white balance read the same columns)."""
    side = max(2, w // 16)
    return [
        g.op("Slice", [rgb, g.const(np.array([a], np.int64)), g.const(np.array([b], np.int64)), g.axes(3)])
        for a, b in ((0, side), (w - side, w))
    ]


def _foreground(g: _G, rgb: str, sides: list[str]) -> str:
    """[N,1,H,W] in 0..1: how unlike a pixel is to its row's background, sampled at the crop's sides."""
    dists = []
    for col in sides:
        bg = g.op("ReduceMean", [col, g.axes(3)], keepdims=1)
        d = g.op("Sub", [rgb, bg])
        dists.append(g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [d, d]), g.axes(1)], keepdims=1)]))
    d = g.op("Min", dists)
    return g.op("Sigmoid", [g.op("Mul", [g.op("Sub", [d, g.const(np.float32(0.10))]), g.const(np.float32(30.0))])])


def _white_balanced(g: _G, rgb: str, sides: list[str]) -> str:
    """[N,3,H,W] -> the crop with each channel scaled so that its side columns come out grey: the sides are
    mostly the ground and walls beside the person, lit like the person, so the light's colour cancels."""
    bg = g.op("ReduceMean", [g.op("Concat", sides, axis=3), g.axes(2, 3)], keepdims=1)  # [N,3,1,1]
    grey = g.op("ReduceMean", [bg, g.axes(1)], keepdims=1)
    gain = g.op("Div", [grey, g.op("Add", [bg, g.const(np.float32(0.02))])])
    # Bounded: a side that is one strong colour (a red wall) must not turn the person into its complement.
    gain = g.op("Clip", [gain, g.const(np.float32(0.4)), g.const(np.float32(2.5))])
    return g.op("Clip", [g.op("Mul", [rgb, gain]), g.const(np.float32(0.0)), g.const(np.float32(1.0))])


def _chroma_hist(g: _G, rgb: str, spec: FeatureSpec, lit: str) -> str:
    """[N,3,H,W] -> [N,K*K,H,W]: the joint soft histogram of chromaticity (r, g), zero where too dark."""
    h, w, k = spec.height, spec.width, spec.chroma_bins
    total = g.op("ReduceSum", [rgb, g.axes(1)], keepdims=1)
    chrom = g.op("Div", [rgb, g.op("Add", [total, g.const(np.float32(1e-3))])])
    r = g.op("Slice", [chrom, g.const(np.array([0], np.int64)), g.const(np.array([1], np.int64)), g.axes(1)])
    gg = g.op("Slice", [chrom, g.const(np.array([1], np.int64)), g.const(np.array([2], np.int64)), g.axes(1)])
    centres = np.linspace(0.12, 0.58, k)
    mr = _soft_hist(g, r, centres, 0.05)
    mg = _soft_hist(g, gg, centres, 0.05)
    joint = g.op("Mul", [g.op("Unsqueeze", [mr, g.axes(2)]), g.op("Unsqueeze", [mg, g.axes(1)])])
    joint = g.op("Reshape", [joint, g.const(np.array([0, k * k, h, w], np.int64))])
    return g.op("Mul", [joint, lit])


def _compress(g: _G, x: str, power: float) -> str:
    """x >= 0 raised to `power` (a square root node where it is 0.5, as in models written before)."""
    x = g.op("Relu", [x])
    if power == 0.5:
        return g.op("Sqrt", [x])
    return g.op("Pow", [x, g.const(np.float32(power))])


def _block(g: _G, x: str, spec: FeatureSpec) -> str:
    """A pooled block [N,C,R,1], compressed, flattened to [N,C*R], at unit length with `spec.block_norm`."""
    flat = g.op("Flatten", [_compress(g, x, spec.power)], axis=1)
    if not spec.block_norm:
        return flat
    norm = g.op("ReduceL2", [flat, g.axes(1)], keepdims=1)
    return g.op("Div", [flat, g.op("Add", [norm, g.const(np.float32(1e-6))])])


def build_features(spec: FeatureSpec, cnn_model=None):
    """The feature graph: input `input` [N,3,H,W] -> output `features` [N, spec.dim()] (not normalised)."""
    from onnx import TensorProto, helper

    g = _G()
    h, w = spec.height, spec.width
    x = "input"
    rgb = g.op("Add", [g.op("Mul", [x, g.const(STD.reshape(1, 3, 1, 1))]), g.const(MEAN.reshape(1, 3, 1, 1))])
    rgb = g.op("Clip", [rgb, g.const(np.float32(0.0)), g.const(np.float32(1.0))])
    inten = g.op("ReduceMean", [rgb, g.axes(1)], keepdims=1)
    # Chromaticity of a near-black pixel is noise: such pixels vote for a dark bin instead.
    lit = g.op("Sigmoid", [g.op("Mul", [g.op("Sub", [inten, g.const(np.float32(0.10))]), g.const(np.float32(40.0))])])
    dark = g.op("Sub", [g.const(np.float32(1.0)), lit])
    sides = _side_columns(g, rgb, w) if spec.balanced_chroma or spec.foreground else []
    colour = [_chroma_hist(g, rgb, spec, lit)]
    if spec.balanced_chroma:
        colour.append(_chroma_hist(g, _white_balanced(g, rgb, sides), spec, lit))
    mean_i = g.op("ReduceMean", [inten, g.axes(2, 3)], keepdims=1)
    rel = g.op("Div", [inten, g.op("Add", [mean_i, g.const(np.float32(0.02))])])
    mi = _soft_hist(g, rel, np.linspace(0.2, 2.2, spec.intensity_bins), 0.15)
    grad = g.op("Conv", [rel, g.const(_oriented_kernels(spec.orientations))], pads=[1, 1, 1, 1])
    tex = g.op("Relu", [grad])
    feats = g.op("Concat", [*colour, dark, mi, tex], axis=1)
    prior = _centre_prior(h, w)
    weight = g.const(prior)
    fg = None
    if spec.foreground:
        fg = _foreground(g, rgb, sides)
        weight = g.op("Mul", [fg, weight])
    weighted = g.op("Mul", [feats, weight])
    pooled = []
    for s in spec.stripes:
        if h % s:
            raise ValueError(f"height {h} is not a multiple of {s} stripes")
        kern = [h // s, w]
        p = g.op("AveragePool", [weighted], kernel_shape=kern, strides=kern)
        norm = g.op("AveragePool", [weight], kernel_shape=kern, strides=kern) if fg else g.const(
            prior.reshape(s, h // s, w).mean(axis=(1, 2)).reshape(1, 1, s, 1).astype(np.float32))
        p = g.op("Div", [p, g.op("Add", [norm, g.const(np.float32(1e-4))])])
        if fg is not None:
            # The body's width in the stripe: build and what is carried, where colour is the same.
            p = g.op("Concat", [p, g.op("AveragePool", [fg], kernel_shape=kern, strides=kern)], axis=1)
        pooled.append(_block(g, p, spec))
    rows, windows = spec.local_max
    if rows:
        if h % rows or w % windows:
            raise ValueError(f"{h}x{w} is not a multiple of {rows} rows x {windows} windows")
        kern = [h // rows, w // windows]
        wsum = g.op("AveragePool", [weight], kernel_shape=kern, strides=kern)
        local = g.op("Div", [g.op("AveragePool", [weighted], kernel_shape=kern, strides=kern),
                             g.op("Add", [wsum, g.const(np.float32(1e-4))])])
        peak = g.op("ReduceMax", [local, g.axes(3)], keepdims=1)  # [N,C,rows,1]
        pooled.append(_block(g, peak, spec))
    nodes_cnn, inits_cnn = [], []
    if spec.cnn:
        if cnn_model is None:
            raise ValueError("FeatureSpec.cnn needs the ImageNet embedder model")
        nodes_cnn, inits_cnn, fmap = _cnn_nodes(cnn_model)
        cm = g.op("ReduceMean", [fmap, g.axes(3)], keepdims=1)  # [N,1280,H/32,1]: one row a stripe
        pooled.append(g.op("Flatten", [_compress(g, cm, 0.5)], axis=1))  # untried at other powers
    out = g.op("Concat", pooled, axis=1)
    g.nodes.append(helper.make_node("Identity", [out], ["features"]))
    graph = helper.make_graph(
        nodes_cnn + g.nodes,
        "relaytrack_reid_features",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, h, w])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", spec.dim()])],
        inits_cnn + g.inits,
    )
    return graph


def _cnn_nodes(model):
    """Nodes and weights of the ImageNet embedder up to its last feature map (its pooling is left out)."""
    nodes, needed = [], {CNN_MAP}
    for node in reversed(model.graph.node):
        if any(o in needed for o in node.output):
            nodes.append(node)
            needed.update(node.input)
    nodes.reverse()
    inits = [t for t in model.graph.initializer if t.name in needed]
    return nodes, inits, CNN_MAP


def make_model(graph, opset: int = 18):
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="relaytrack")
    model.ir_version = 8
    return model
