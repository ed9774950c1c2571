"""The one container every loader returns: tensors in memory, with the applied parameters.

:class:`Samples` is a ``torch.utils.data.Dataset`` (``ds[i]`` is ``(x, y)``,
so a ``DataLoader`` takes it as it is) that also exposes the whole tensors:

* ``images``: N×C×H×W float32 in [0, 1] (time series: N×C×L, standardized),
* ``labels``: N int64 class labels (segmentation: N×H×W int64 masks),
* ``params``: a dict of tensors with first dimension N, the parameters each
  distortion applied (angle, scale, shift, θ, ...), documented by the
  distortion that made them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.utils.data import Dataset


@dataclass
class Samples(Dataset):
    """Tensors of one dataset split, indexable as a ``Dataset`` of ``(image, label)`` pairs.

    Args:
        images: N×C×H×W float in [0, 1] (series N×C×L).
        labels: N int64 class indices (or N×H×W per-pixel masks).
        params: per-sample tensors of length N, e.g. the drawn distortion ``"angle"``.
        name: the dataset's name, e.g. ``"mnist-rts"``.
        split: ``"train"``, ``"val"`` or ``"test"``.
        classes: the class names, index = label.
        info: JSON-able notes about the set (``"quantized": False`` keeps float images
            in the cache).
    """

    images: torch.Tensor
    labels: torch.Tensor
    params: dict[str, torch.Tensor] = field(default_factory=dict)
    name: str = ""
    split: str = ""
    classes: tuple = ()
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if len(self.images) != len(self.labels):
            raise ValueError(f"images ({len(self.images)}) and labels ({len(self.labels)}) "
                             "must have the same length")
        for k, v in self.params.items():
            if len(v) != len(self.images):
                raise ValueError(f"params[{k!r}] has {len(v)} rows, expected {len(self.images)}")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]

    @property
    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(images, labels)``, as ``TensorDataset.tensors``."""
        return self.images, self.labels

    @property
    def series(self) -> torch.Tensor:
        """Alias of ``images`` for time series (N×C×L)."""
        return self.images

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def subset(self, index) -> Samples:
        """The rows ``index`` (a slice, an index tensor or a boolean mask), params included."""
        return Samples(self.images[index], self.labels[index],
                       {k: v[index] for k, v in self.params.items()}, self.name, self.split,
                       self.classes, dict(self.info))

    def __repr__(self) -> str:
        p = ", ".join(self.params)
        return (f"Samples({self.name!r}, split={self.split!r}, images={tuple(self.images.shape)}, "
                f"labels={tuple(self.labels.shape)}, params=[{p}])")
