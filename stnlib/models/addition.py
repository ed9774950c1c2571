"""Several objects: MNIST addition (Jaderberg et al. 2015, A.1) and two digits in one image (Wang 2018, §5.1).

**MNIST addition.** Two digits, each independently rotated, scaled and
placed in its own 42×42 channel (``stnlib.data`` ``"mnist-addition"``); the
label is their sum (19 classes). Jaderberg et al. (2015), appendix A.1, train
an FCN, a CNN, an FCN behind one spatial transformer (**ST-FCN**: one θ for
both channels) and an FCN behind **two parallel transformers** (**2×ST-FCN**:
each sees both channels and warps both; their 2-channel outputs are
concatenated into 4 channels), all with about the same number of
parameters. :func:`addition_model` builds those, the same with a CNN
classifier (**ST-CNN**, **2×ST-CNN**, which the paper does not train), and a
transformer that regresses **one θ per channel** (``per_channel=True`` of
:class:`~stnlib.transformer.SpatialTransformer`: "ST-FCN per channel").

========================= =========================================================
piece                     here
========================= =========================================================
classifier                ``classifier="joint"``: :class:`~stnlib.models.classifier.FCN`
                          (3 weight layers) or :class:`~stnlib.models.classifier.CNN`
                          (2 conv + 2 max-pool + linear), the Table-1 bodies of lesson
                          03, on all channels at once; ``classifier="shared"``:
                          :class:`SharedDigitBody`, one digit net (FCN or small CNN)
                          per channel with shared weights, then a head on all
                          channels' features. ``in_channels`` = 2 (no transformer,
                          one transformer, one θ per channel) or 4 (2×ST), 19 classes
localization              lesson 03's: a 14×14 thumbnail FCN (ST-FCN) or the small
                          CNN of the PyTorch tutorial (ST-CNN), seeing both channels,
                          identity-initialized
transformer output        28×28 (``ADDITION_OUT``): a digit-sized window of the
                          42×42 canvas, as in tensorpack's reproduction (our choice:
                          the paper does not give it)
size                      the classifier's width is fitted so that every model has
                          about ``params`` parameters (default
                          ``DEFAULT_ADDITION_PARAMS`` = 100k; lesson 05 uses 300k with
                          the shared classifier; the paper says only "approximately
                          the same")
========================= =========================================================

Why a shared classifier: the sum is the only label, so a classifier must learn
both digits from it. With one FCN on both channels (100k parameters, or 974k)
the models of lesson 05 stayed at the error of always answering the most
frequent sum (about 91 %) within a CPU budget, or memorized the training pairs;
one digit net read per channel sees every digit with the same weights, twice as
many digit examples per pair, and left that plateau in the same budget (lesson
05's companion module gives the scouting numbers).

**Two digits in one image.** Wang (2018), §5.1: the two digits side by side
in one 28×56 channel (``"mnist-two-digits"``). One localization net outputs
**12 parameters**, two affine θ, each sampling a 28×28 window of the input
(``SpatialTransformer(n_transformers=2, shared_localization=True)``); one
CNN reads each window and a linear layer reads both. Where θ starts is the
experiment: :data:`TWO_DIGIT_INITS` ``"left-right"`` (the bias of Wang's code,
:data:`LEFT_RIGHT_BIAS`: window 1 on the left half, window 2 on the right
half), ``"identity"`` (both windows start on the whole image, squeezed to
28×28) or ``"random"`` (PyTorch's default initialization of the last layer,
as in Wang's code, not a Gaussian). :func:`two_digit_model` builds it with
``padding_mode`` ``"border"`` or ``"zeros"``; :func:`two_digit_cnn` is Wang's
baseline. The architecture is Wang's (his ``STN3`` and ``CNN3``).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..localization import fc_body, tutorial_conv_body
from ..transformer import SpatialTransformer
from .classifier import CNN, FCN, Classifier, check_images, count_parameters
from .mnist import MNIST_MEAN_STD

__all__ = [
    "ADDITION_MODELS", "DEFAULT_ADDITION_PARAMS", "ADDITION_OUT", "ADDITION_CLASSIFIERS",
    "SharedDigitBody", "addition_transformer", "addition_model", "addition_parameter_table", "WANG_MODELS",
    "WangAdditionCNNBody", "wang_addition_model",
    "LEFT_RIGHT_BIAS", "IDENTITY_BIAS", "TWO_DIGIT_INITS", "PADDING_MODES",
    "two_digit_localization_body", "PairCNN", "TwoDigitCNNBody", "two_digit_cnn",
    "two_digit_model",
    "init_two_digit_head", "MNIST_MEAN", "MNIST_STD",
]

#: the models of :func:`addition_model`
ADDITION_MODELS = ("FCN", "CNN", "ST-FCN", "ST-FCN per channel", "2×ST-FCN",
                   "ST-CNN", "ST-CNN per channel", "2×ST-CNN", "Wang ST", "Wang CNN")
#: Wang (2018, §4.2.2)'s addition models, at his sizes: "Wang ST" = one θ per channel, then one
#: CNN (shared weights) per 28×28 window and a linear layer on both; "Wang CNN" = his CNN on
#: the 2-channel input
WANG_MODELS = ("Wang ST", "Wang CNN")
#: the parameter budget every addition model is sized to (our choice)
DEFAULT_ADDITION_PARAMS = 100_000
#: side of the transformers' output windows on the 42×42 canvas
ADDITION_OUT = 28
#: how an addition model's classifier reads its channels: ``"joint"`` (one FCN / CNN on all
#: channels at once) or ``"shared"`` (:class:`SharedDigitBody`: one digit net, shared, per channel,
#: then a head on all channels' features)
ADDITION_CLASSIFIERS = ("joint", "shared")
#: the pixel statistics of MNIST Wang (2018) standardizes his inputs with
MNIST_MEAN, MNIST_STD = MNIST_MEAN_STD


# --------------------------------------------------------------------------- MNIST addition


class SharedDigitBody(nn.Module):
    """One digit net applied to every channel with the same weights, then a head on all of them.

    Each channel c of the N×C×S×S input goes alone through the same digit net
    (``"fcn"``: flatten → linear w → ReLU → linear w → ReLU; ``"cnn"``: conv 5×5 8
    stride 2 → ReLU → conv 3×3 8 stride 2 → ReLU → linear w → ReLU: strided
    convolutions instead of max-pooling, and narrow, because on a CPU they cost
    most of the time (one 1-channel 42×42 convolution with pooling costs ~10× the
    FCN's step); its parameters are in the linear layers); the C
    feature vectors are concatenated in channel order and a head (linear → ReLU →
    linear) maps them to the logits. The net sees one digit at a time, as Wang (2018)'s
    addition classifier does (:class:`PairCNN`); which channel a feature came from is
    known to the head only.

    Args:
        channels: C (2 for a 2-channel input or a single / per-channel transformer,
            4 behind two parallel transformers).
        in_size: S, the side of each channel.
        n_classes: the logits (19 sums).
        kind: ``"fcn"`` or ``"cnn"``: the digit net.
        width: w: the digit net's features (the FCN's hidden units, the CNN's linear layer).
        head: the head's hidden units (default: w).

    Shapes: N×C×S×S → N×n_classes; :meth:`features` gives N×C×w, the digit net's
    features of each channel.

    Example:
        >>> import torch
        >>> body = SharedDigitBody(2, 42, kind="fcn", width=16)
        >>> body(torch.rand(3, 2, 42, 42)).shape, body.features(torch.rand(3, 2, 42, 42)).shape
        (torch.Size([3, 19]), torch.Size([3, 2, 16]))
    """

    #: the CNN digit net's two convolutions' channels
    conv_channels = (8, 8)

    def __init__(self, channels: int, in_size: int, n_classes: int = 19, *, kind: str = "fcn",
                 width: int = 128, head: int | None = None):
        super().__init__()
        _validate.size(channels, "channels", 1)
        (self.in_size,) = _validate.size(in_size, "in_size", 1)
        _validate.size(n_classes, "n_classes", 1)
        _validate.choice(kind, "kind", ("fcn", "cnn"))
        _validate.size(width, "width", 1)
        if kind == "cnn" and in_size < 4:
            raise ValueError(f"in_size must be at least 4 for the CNN (two stride-2 convolutions), "
                             f"got {in_size}")
        self.in_channels, self.kind, self.width = channels, kind, width
        if kind == "fcn":
            self.n_features = width
            self.digit = nn.Sequential(nn.Flatten(), nn.Linear(in_size * in_size, width), nn.ReLU(),
                                       nn.Linear(width, width), nn.ReLU())
        else:
            self.n_features = width
            c1, c2 = self.conv_channels
            side = (in_size + 1) // 2
            side = (side + 1) // 2  # two stride-2 convolutions ("same" padding): ⌈S/4⌉
            self.digit = nn.Sequential(
                nn.Conv2d(1, c1, 5, stride=2, padding=2), nn.ReLU(),
                nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),
                nn.Flatten(), nn.Linear(c2 * side * side, width), nn.ReLU())
        self.hidden = head if head is not None else width
        _validate.size(self.hidden, "head", 1)
        self.head = nn.Sequential(nn.Linear(channels * self.n_features, self.hidden), nn.ReLU(),
                                  nn.Linear(self.hidden, n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The digit net's features of each channel: N×C×S×S → N×C×F."""
        check_images(x, self.in_channels, self.in_size)
        N, C = x.shape[:2]
        return self.digit(x.reshape(N * C, 1, self.in_size, self.in_size)).reshape(N, C, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


def _parse_addition(name: str) -> tuple[str, str | None]:
    """``"2×ST-FCN"`` → ``("FCN", "parallel")``; ``"CNN"`` → ``("CNN", None)``."""
    table = {"FCN": ("FCN", None), "CNN": ("CNN", None), "Wang ST": ("Wang", "per channel"),
             "Wang CNN": ("Wang", None)}
    for base in ("FCN", "CNN"):
        table[f"ST-{base}"] = (base, "single")
        table[f"ST-{base} per channel"] = (base, "per channel")
        table[f"2×ST-{base}"] = (base, "parallel")
    if name not in table:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(ADDITION_MODELS)}")
    return table[name]


def addition_transformer(kind: str, *, loc: str = "fcn", in_size: int = 42,
                         out_size: int = ADDITION_OUT, transform: str = "affine",
                         padding_mode: str = "zeros") -> SpatialTransformer:
    """The transformer of an MNIST-addition model, on 2-channel inputs.

    Args:
        kind: ``"single"`` (one θ warps both channels: V N×2×out×out, θ N×2×3),
            ``"per channel"`` (one localization net, one θ per channel, each
            channel warped by its own: V N×2×out×out, θ N×2×2×3, the axis is
            the channel) or ``"parallel"`` (two transformers, each with its own
            localization net, each warping both channels: V N×4×out×out, θ
            N×2×2×3, the axis is the transformer).
        loc: ``"fcn"`` (thumbnail FCN) or ``"cnn"`` localization body.
        in_size, out_size: the canvas side (42) and the output window's side.
        transform: the transformer's transform (``"affine"`` as in the paper's
            table; ``"tps"`` is the paper's visualized 2×ST model).
        padding_mode: ``"zeros"``, the black background of [0, 1] digits.
    """
    kinds = ("single", "per channel", "parallel")
    if kind not in kinds:
        raise ValueError(f"kind must be one of {', '.join(map(repr, kinds))}, got {kind!r}")
    if loc not in ("fcn", "cnn"):
        raise ValueError(f"loc must be 'fcn' or 'cnn', got {loc!r}")
    # lesson 03's localization bodies, for two channels: a 14×14 thumbnail FCN, or the tutorial's CNN
    body, features = ((fc_body(2 * 14 * 14, hidden=32, pool_to=14), 32) if loc == "fcn"
                      else tutorial_conv_body(in_size, in_channels=2))
    return SpatialTransformer(2, align_corners=False, transform=transform, out_size=out_size,
                              padding_mode=padding_mode, loc_body=body, loc_features=features,
                              per_channel=kind == "per channel",
                              n_transformers=2 if kind == "parallel" else 1)


def _make_addition(base: str, kind: str | None, width: int, in_size: int, out_size: int,
                   transform: str, classifier: str = "joint") -> nn.Module:
    channels = 4 if kind == "parallel" else 2
    side = in_size if kind is None else out_size
    if classifier == "shared":
        body = SharedDigitBody(channels, side, 19, kind=base.lower(), width=width)
    else:
        body = (FCN(channels, side, 19, hidden=width) if base == "FCN"
                else CNN(channels, side, 19, channels=(width, 2 * width), hidden=None))
    if kind is None:
        return Classifier(body)
    st = addition_transformer(kind, loc=base.lower(), in_size=in_size, out_size=out_size,
                              transform=transform)
    return Classifier(body, st)


def addition_model(name: str, *, params: int = DEFAULT_ADDITION_PARAMS, width: int | None = None,
                   in_size: int = 42, out_size: int = ADDITION_OUT,
                   transform: str = "affine", classifier: str = "joint") -> Classifier:
    """One MNIST-addition model, its classifier sized so the whole has ≈ ``params`` parameters.

    Args:
        name: one of :data:`ADDITION_MODELS`: ``"FCN"``, ``"CNN"``, ``"ST-FCN"``,
            ``"ST-FCN per channel"``, ``"2×ST-FCN"`` and the same with CNN.
        params: the parameter budget (the classifier's width — FCN hidden
            units, CNN channels — is fitted to it).
        width: use this classifier width instead of fitting one.
        in_size, out_size, transform: see :func:`addition_transformer`.
        classifier: ``"joint"`` (the FCN / CNN reads all channels at once) or
            ``"shared"`` (:class:`SharedDigitBody`: one digit net per channel, shared
            weights, then a head); see :data:`ADDITION_CLASSIFIERS`.

    Returns a :class:`~stnlib.models.classifier.Classifier` mapping
    N×2×in_size×in_size to N×19 logits.

    Example:
        >>> import torch
        >>> m = addition_model("2×ST-FCN")
        >>> V, theta = m.transformed(torch.rand(5, 2, 42, 42))
        >>> tuple(V.shape), tuple(theta.shape)
        ((5, 4, 28, 28), (5, 2, 2, 3))
    """
    base, kind = _parse_addition(name)
    _validate.size(params, "params", 1)
    _validate.choice(classifier, "classifier", ADDITION_CLASSIFIERS)
    if base == "Wang":
        return wang_addition_model(transformer=kind is not None)
    if width is None:
        widths = range(2, 2049) if base == "FCN" or classifier == "shared" else range(2, 257)
        best, gap = None, None
        for w in widths:  # counts grow with the width: stop past the best
            g = abs(count_parameters(_make_addition(base, kind, w, in_size, out_size,
                                                    transform, classifier)) - params)
            if gap is None or g < gap:
                best, gap = w, g
            elif g > gap:
                break
        width = best
    return _make_addition(base, kind, width, in_size, out_size, transform, classifier)


def addition_parameter_table(*, params: int = DEFAULT_ADDITION_PARAMS,
                             names=ADDITION_MODELS, classifier: str = "joint") -> str:
    """A text table: classifier width, localization and total parameters of each addition model.

    ``params``: the parameter budget the classifiers' widths are fitted to; ``names``: the
    models to list (:data:`ADDITION_MODELS`); ``classifier``: see :func:`addition_model`.
    """
    lines = [f"{'model':20s} {'classifier':>16s} {'loc. net(s)':>11s} {'total':>8s}   "
             "θ per image"]
    for name in names:
        m = addition_model(name, params=params, classifier=classifier)
        clf = m.body
        loc = count_parameters(m.transformer) if m.transformer is not None else 0
        width = (f"h={clf.hidden}" if isinstance(clf, FCN) else f"c={clf.channels[0]}"
                 if isinstance(clf, CNN) else
                 f"w={clf.width}"
                 if isinstance(clf, SharedDigitBody) else "Wang's")
        kind = _parse_addition(name)[1]
        thetas = {None: "–", "single": "1 (both channels)", "per channel": "2 (one per channel)",
                  "parallel": "2 (one per transformer)"}[kind]
        lines.append(f"{name:20s} {width:>7s} {count_parameters(clf):8,d} {loc:11,d} "
                     f"{count_parameters(m):8,d}   {thetas}")
    return "\n".join(lines)


class WangAdditionCNNBody(nn.Module):
    """Wang (2018)'s addition CNN on the 2×42×42 input: conv 5×5 10 → max-pool 2 → ReLU → conv 5×5
    25 → (dropout2d) → max-pool 2 → ReLU → linear 50 → ReLU → (dropout) → linear 19 (his ``CNN2``,
    here for 42×42 channels).

    ``n_classes``: the number of logits (19 sums); ``dropout``: the two dropout layers on or off.
    """

    def __init__(self, n_classes: int = 19, *, dropout: bool = True):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(2, 10, 5), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(10, 25, 5), nn.Dropout2d() if dropout else nn.Identity(), nn.MaxPool2d(2),
            nn.ReLU(), nn.Flatten(), nn.Linear(25 * 7 * 7, 50), nn.ReLU(),
            nn.Dropout() if dropout else nn.Identity(), nn.Linear(50, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, 2, 42)
        return self.net(x)


def wang_addition_model(*, transformer: bool = True, dropout: bool = False,
                        padding_mode: str = "border") -> Classifier:
    """Wang (2018, §4.2.2)'s MNIST-addition models, on the 2×42×42 pairs, standardized as he does.

    ``transformer=True`` ("Wang ST"): one θ per channel (a per-channel transformer whose
    localization net, the tutorial's CNN, sees both channels; Wang's sees one) to a 28×28
    window each, then :class:`PairCNN`: the same CNN reads each window, a linear layer both.
    ``transformer=False`` ("Wang CNN"): :class:`WangAdditionCNNBody`. Wang pads with
    ``"border"`` (on standardized inputs: the black background) and trains with dropout.
    ``padding_mode``: the sampler's, ``"zeros"``, ``"border"`` or ``"reflection"``.

    Returns a :class:`~stnlib.models.Classifier`: N×2×42×42 → N×19 logits.
    """
    if not transformer:
        return Classifier(WangAdditionCNNBody(dropout=dropout), standardize=MNIST_MEAN_STD)
    body, features = tutorial_conv_body(42, in_channels=2)
    st = SpatialTransformer(2, align_corners=False, transform="affine", out_size=ADDITION_OUT,
                            padding_mode=padding_mode, loc_body=body, loc_features=features,
                            per_channel=True)
    return Classifier(PairCNN(dropout=dropout), st, standardize=MNIST_MEAN_STD)


# --------------------------------------------------------------------------- two digits, one image

#: Wang (2018), §5.1, as in his code: θ₁ = [[0.5, 0, −0.5], [0, 1, 0]] reads the left half of
#: the 28×56 input, θ₂ = [[0.5, 0, 0.5], [0, 1, 0]] the right half (the report prints the
#: second shift as −0.5, a misprint: both windows would then read the left half)
LEFT_RIGHT_BIAS = torch.tensor([0.5, 0.0, -0.5, 0.0, 1.0, 0.0, 0.5, 0.0, 0.5, 0.0, 1.0, 0.0])
#: both windows start as the identity: each reads the whole 28×56 image, squeezed to 28×28
IDENTITY_BIAS = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0] * 2)
TWO_DIGIT_INITS = ("left-right", "identity", "random")
PADDING_MODES = ("border", "zeros")


def two_digit_localization_body() -> tuple[nn.Sequential, int]:
    """Wang's localization body for 1×28×56 inputs: conv 7×7 8 → max-pool 2 → ReLU → conv 5×5 10 →
    max-pool 2 → ReLU → flatten (10×3×10 = 300) → linear 32 → ReLU.

    Returns ``(body, 32)``: N×1×28×56 → N×32 features.
    """
    body = nn.Sequential(
        nn.Conv2d(1, 8, 7), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(8, 10, 5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(10 * 3 * 10, 32), nn.ReLU())
    return body, 32


def _digit_features(dropout: bool) -> nn.Sequential:
    """conv 5×5 10 → max-pool 2 → ReLU → conv 5×5 20 → (dropout2d) → max-pool 2 → ReLU → 320."""
    return nn.Sequential(
        nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(10, 20, 5), nn.Dropout2d() if dropout else nn.Identity(), nn.MaxPool2d(2),
        nn.ReLU(), nn.Flatten())


class PairCNN(nn.Module):
    """Wang's classifier of the two windows: one CNN per 28×28 window (shared weights), the two
    320-feature vectors concatenated → linear 50 → ReLU → (dropout) → linear 19.

    Shapes: N×2×28×28 (window k in channel k) → N×19. ``n_classes``: the number of logits (19
    sums); ``dropout``: dropout before the last layer.
    """

    def __init__(self, n_classes: int = 19, *, dropout: bool = True):
        super().__init__()
        self.features = _digit_features(dropout)
        self.head = nn.Sequential(nn.Linear(2 * 320, 50), nn.ReLU(),
                                  nn.Dropout() if dropout else nn.Identity(),
                                  nn.Linear(50, n_classes))

    def forward(self, V: torch.Tensor) -> torch.Tensor:
        check_images(V, 2, 28, name="V (two 28×28 windows)")
        N = V.shape[0]
        f = self.features(V.reshape(2 * N, 1, 28, 28)).reshape(N, 2 * 320)
        return self.head(f)


class TwoDigitCNNBody(nn.Module):
    """Wang's baseline CNN on the whole 1×28×56 image: conv 5×5 10 → max-pool 2 → ReLU → conv 5×5
    25 → (dropout2d) → max-pool 2 → ReLU → linear 50 → ReLU → (dropout) → linear 19.

    ``n_classes``: the number of logits (19 sums); ``dropout``: the two dropout layers on or off.
    """

    def __init__(self, n_classes: int = 19, *, dropout: bool = True):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(10, 25, 5), nn.Dropout2d() if dropout else nn.Identity(), nn.MaxPool2d(2),
            nn.ReLU(), nn.Flatten(), nn.Linear(25 * 4 * 11, 50), nn.ReLU(),
            nn.Dropout() if dropout else nn.Identity(), nn.Linear(50, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", ndim=4, layout="N×1×28×56")
        if x.shape[1:] != (1, 28, 56):
            raise ValueError(f"x must be N×1×28×56, got shape {tuple(x.shape)}")
        return self.net(x)


def init_two_digit_head(head: nn.Linear, init: str) -> nn.Linear:
    """Set the 12-output head of the two-digit localization net to ``init`` (in place).

    ``"left-right"``: zero weights, :data:`LEFT_RIGHT_BIAS`; ``"identity"``: zero
    weights, :data:`IDENTITY_BIAS`; ``"random"``: PyTorch's default
    initialization of an ``nn.Linear`` (``reset_parameters``, drawn from the
    global RNG: seed it first).

    Returns the same ``head``.
    """
    _validate.choice(init, "init", TWO_DIGIT_INITS)
    if not isinstance(head, nn.Linear) or head.out_features != 12:
        raise ValueError("head must be the nn.Linear with 12 outputs of the two-digit "
                         f"localization net, got {head!r}")
    if init == "random":
        head.reset_parameters()
        return head
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(LEFT_RIGHT_BIAS if init == "left-right" else IDENTITY_BIAS)
    return head


def two_digit_cnn(*, dropout: bool = True, standardize: bool = True) -> Classifier:
    """Wang's baseline: :class:`TwoDigitCNNBody` on the (standardized) 1×28×56 image.

    ``dropout``: the body's dropout layers on or off; ``standardize``: standardize the input with
    MNIST's mean and std first.

    Returns a :class:`~stnlib.models.Classifier`: N×1×28×56 → N×19 logits.
    """
    return Classifier(TwoDigitCNNBody(dropout=dropout),
                      standardize=MNIST_MEAN_STD if standardize else None)


def two_digit_model(init: str = "left-right", padding_mode: str = "zeros", *,
                    dropout: bool = True, kernel: str = "bilinear",
                    standardize: bool = True) -> Classifier:
    """Wang's 12-parameter model for two digits in one 1×28×56 image.

    Args:
        init: where the two windows start, one of :data:`TWO_DIGIT_INITS`.
        padding_mode: what the sampler reads outside the image: ``"border"``
            (the nearest edge pixel) or ``"zeros"``.
        dropout: Wang's dropout layers in the classifier.
        kernel: the sampling kernel.
        standardize: subtract MNIST's mean and divide by its std before the
            transformer, as Wang does: ``"zeros"`` then pads with the mean grey,
            ``"border"`` with the (black) edge.

    Returns a :class:`~stnlib.models.classifier.Classifier`: ``transformed(x)``
    gives V N×2×28×28 (window k in channel k) and θ N×2×2×3.

    Example:
        >>> import torch
        >>> x = torch.rand(3, 1, 28, 56)
        >>> V, theta = two_digit_model("left-right").transformed(x)
        >>> torch.allclose(V[:, 0], x[:, 0, :, :28], atol=1e-5), tuple(theta.shape)
        (True, (3, 2, 2, 3))
    """
    _validate.choice(padding_mode, "padding_mode", PADDING_MODES)
    body, features = two_digit_localization_body()
    st = SpatialTransformer(1, align_corners=False, transform="affine", out_size=(28, 28),
                            padding_mode=padding_mode, kernel=kernel, loc_body=body,
                            loc_features=features, n_transformers=2, shared_localization=True)
    init_two_digit_head(st.loc[0].head, init)
    return Classifier(PairCNN(dropout=dropout), st,
                      standardize=MNIST_MEAN_STD if standardize else None)

