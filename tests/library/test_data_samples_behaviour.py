"""stnlib.data.samples.Samples, the container every loader returns (issue 25, mutation run of 2026-12-05):
a Dataset of (image, label) pairs in row order that a DataLoader takes as it is, its tensors and aliases,
``subset`` carrying every field and the params' rows, the length checks with their exact messages, and
its repr."""

import re

import pytest
import torch
from torch.utils.data import DataLoader

from stnlib.data.samples import Samples


def make(n=5):
    images = torch.arange(n * 4, dtype=torch.float32).view(n, 1, 2, 2) / 100
    return Samples(images, torch.arange(n) * 2, {"angle": torch.arange(n) * 10.0, "theta": torch.randn(n, 2, 3)},
                   name="toy", split="val", classes=("a", "b", "c"), info={"quantized": False})


def test_a_dataset_of_image_label_pairs_in_row_order():
    s = make()
    assert len(s) == 5
    for i in range(5):
        x, y = s[i]
        assert torch.equal(x, s.images[i]) and int(y) == 2 * i
    batches = list(DataLoader(s, batch_size=2))
    assert torch.equal(torch.cat([b[0] for b in batches]), s.images)
    assert torch.equal(torch.cat([b[1] for b in batches]), s.labels)
    images, labels = s.tensors
    assert images is s.images and labels is s.labels and s.series is s.images
    assert s.num_classes == 3


def test_the_defaults():
    s = Samples(torch.zeros(2, 1, 3), torch.zeros(2, dtype=torch.long))
    assert (s.params, s.name, s.split, s.classes, s.info, s.num_classes) == ({}, "", "", (), {}, 0)
    other = Samples(torch.zeros(1, 1, 3), torch.zeros(1, dtype=torch.long))
    other.params["x"] = torch.zeros(1)
    other.info["k"] = 1
    assert s.params == {} and s.info == {}  # each container has its own dicts


@pytest.mark.parametrize("index", [slice(1, 4), torch.tensor([4, 0, 2]), torch.tensor([True, False, True, False, True])])
def test_subset_takes_the_rows_of_every_field(index):
    s = make()
    sub = s.subset(index)
    rows = torch.arange(5)[index]
    assert torch.equal(sub.images, s.images[rows]) and torch.equal(sub.labels, s.labels[rows])
    assert set(sub.params) == {"angle", "theta"}
    for k in s.params:
        assert torch.equal(sub.params[k], s.params[k][rows])
    assert (sub.name, sub.split, sub.classes, sub.info) == ("toy", "val", ("a", "b", "c"), {"quantized": False})
    sub.info["quantized"] = True
    assert s.info == {"quantized": False}  # the subset's info is a copy


def test_lengths_must_agree():
    with pytest.raises(ValueError, match="^" + re.escape("images (3) and labels (2) must have the same length") + "$"):
        Samples(torch.zeros(3, 1, 2, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="^" + re.escape("params['angle'] has 2 rows, expected 3") + "$"):
        Samples(torch.zeros(3, 1, 2, 2), torch.zeros(3), {"shift": torch.zeros(3, 2), "angle": torch.zeros(2)})


def test_repr_names_the_set_its_shapes_and_params():
    assert repr(make()) == ("Samples('toy', split='val', images=(5, 1, 2, 2), labels=(5,), "
                            "params=[angle, theta])")
    assert repr(Samples(torch.zeros(1, 1, 3), torch.zeros(1))) == \
        "Samples('', split='', images=(1, 1, 3), labels=(1,), params=[])"
