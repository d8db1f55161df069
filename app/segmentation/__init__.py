"""Semi-automatic segmentation: a lesion or the liver from one click, RECIST diameters, volumetry.

Image processing only: numpy + SimpleITK on arrays in Hounsfield units, with the volume's
spacing; points in patient LPS millimetres.  Nothing here is stored or shown: the session
stores what the reader accepts (``app.session``), the viewer draws it.

Owns: the lesion segmentation (``lesion``), RECIST diameters of a mask (``diameters``), liver
segmentation, virtual resection and the future liver remnant (``liver``), from-a-click results
with their provenance (``measure``), the follow-up seed of a lesion measured before
(``follow_up``), brush editing of a contour mask and its measurement (``editing``) and the
errors (``errors``).  May import: ``recist`` (value
types), numpy, SimpleITK.  Never Qt, never ``viewer``, never the database.
"""

from __future__ import annotations

from app.segmentation.diameters import SliceDiameters, recist_diameters
from app.segmentation.errors import SegmentationCancelled, SegmentationError
from app.segmentation.lesion import (
    ALGORITHM,
    ALGORITHM_VERSION,
    LesionParameters,
    RegionResult,
    segment_lesion,
    threshold_baseline,
)
from app.segmentation.liver import (
    LIVER_ALGORITHM,
    LIVER_ALGORITHM_VERSION,
    LiverParameters,
    Volumetry,
    future_liver_remnant_percent,
    plane_side,
    segment_liver,
    volumetry,
)
from app.segmentation.measure import (
    LesionMeasurement,
    LiverSegmentation,
    measure_lesion,
    measure_liver,
    measurement_from_region,
    seed_index,
)

__all__ = [
    "ALGORITHM",
    "ALGORITHM_VERSION",
    "LIVER_ALGORITHM",
    "LIVER_ALGORITHM_VERSION",
    "LesionMeasurement",
    "LesionParameters",
    "LiverParameters",
    "LiverSegmentation",
    "RegionResult",
    "SegmentationCancelled",
    "SegmentationError",
    "SliceDiameters",
    "Volumetry",
    "future_liver_remnant_percent",
    "measure_lesion",
    "measure_liver",
    "measurement_from_region",
    "plane_side",
    "recist_diameters",
    "seed_index",
    "segment_lesion",
    "segment_liver",
    "threshold_baseline",
    "volumetry",
]
