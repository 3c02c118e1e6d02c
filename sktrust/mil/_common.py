"""Tensor helpers shared by the multiple-instance estimators."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import torch


def top_count_mask(scores, valid, n_mask):
    """Boolean mask of the ``n_mask[b]`` highest-scoring valid entries of each row."""
    ranked = scores.masked_fill(~valid, float("-inf")).argsort(dim=1, descending=True)
    position = torch.arange(scores.shape[1], device=scores.device).expand_as(ranked)
    masked = torch.zeros_like(valid)
    masked.scatter_(1, ranked, position < n_mask[:, None])
    return masked & valid


def ceil_count(ratio, n):
    """``ceil(ratio * n)`` per row of the integer tensor ``n``.

    A small tolerance: 0.4 * 5 must give 2, not ceil(2.0000001).
    """
    return torch.ceil(ratio * n.double() - 1e-9).long()


def to_numpy(module):
    """A module's state dict as numpy arrays (picklable, skops-safe)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}
