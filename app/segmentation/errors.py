"""Errors of the segmentation package: a refusal the reader can act on, and a cancellation."""

from __future__ import annotations


class SegmentationError(ValueError):
    """The image around the point cannot be segmented; the message says why and what to do."""


class SegmentationCancelled(SegmentationError):
    """The reader cancelled the computation."""
