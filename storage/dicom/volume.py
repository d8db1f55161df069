"""The loaded volume: voxels, exact geometry, identifiers and loading progress."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date

import numpy as np

from storage.dicom.records import Vec3, scan_date_of


class Volume:
    """A series loaded into a 3-D array with its patient geometry.

    Attributes
    ----------
    voxels : numpy.ndarray
        Shape ``(slices, rows, columns)``; rescaled values (HU for CT),
        ``int16`` when slope/intercept are integral and the range fits,
        else ``float32``.  Slices not yet loaded hold zeros.  When the header
        allows values beyond int16 but the data were hoped to fit (signed
        16-bit CT with intercept -1024), a slice that does not fit makes the
        loader replace this array by a float32 copy before ``is_complete``.
    spacing_mm : tuple of float
        ``(slice, row, column)`` spacing.  The slice spacing is the median
        distance between slices; with uneven spacing the exact positions are
        in ``slice_positions_lps_mm`` and :meth:`index_to_lps` uses them.
    origin_lps_mm : tuple of float
        Centre of voxel ``[0, 0, 0]`` in patient LPS millimetres.
    direction : tuple of tuple of float
        3x3 matrix (row-major) whose columns are the unit LPS vectors of the
        column axis (increasing column index), the row axis (increasing row
        index) and the slice axis.  With gantry tilt the slice axis is not
        perpendicular to the other two.
    slice_positions_lps_mm : list of tuple of float
        ImagePositionPatient of every slice.
    sop_instance_uids : list of str
        SOP instance UID of every slice.
    frame_numbers : list of int
        1-based frame number of every slice inside its file.
    warnings : list of str
        Uneven spacing, missing slices, tilt, duplicates, undecodable slices.
    load_seconds : float or None
        Time from the call of ``load_series`` to the last slice.
    photometric : str
        ``MONOCHROME2`` (high values bright) or ``MONOCHROME1`` (high values
        dark, some radiographs): the viewer inverts the grey scale for the latter.
    """

    def __init__(
        self,
        voxels: np.ndarray,
        spacing_mm: tuple[float, float, float],
        origin_lps_mm: Vec3,
        direction: tuple[tuple[float, float, float], ...],
        slice_positions_lps_mm: Sequence[Vec3],
        sop_instance_uids: list[str],
        frame_numbers: list[int],
        metadata: dict[str, object],
        warnings: list[str],
    ) -> None:
        self.voxels = voxels
        self.spacing_mm = spacing_mm
        self.origin_lps_mm = origin_lps_mm
        self.direction = direction
        self.slice_positions_lps_mm = list(slice_positions_lps_mm)
        self.sop_instance_uids = sop_instance_uids
        self.frame_numbers = frame_numbers
        self.warnings = warnings
        self.series_instance_uid = str(metadata.get("series_instance_uid", ""))
        self.study_instance_uid = str(metadata.get("study_instance_uid", ""))
        self.patient_id = str(metadata.get("patient_id", ""))
        self.patient_name = str(metadata.get("patient_name", ""))
        self.study_date = str(metadata.get("study_date", ""))
        self.series_date = str(metadata.get("series_date", ""))
        self.acquisition_date = str(metadata.get("acquisition_date", ""))
        self.modality = str(metadata.get("modality", ""))
        self.series_description = str(metadata.get("series_description", ""))
        self.slice_thickness_mm = _float_or_none(metadata.get("slice_thickness_mm"))
        self.window_center = _float_or_none(metadata.get("window_center"))
        self.window_width = _float_or_none(metadata.get("window_width"))
        self.photometric = str(metadata.get("photometric", "MONOCHROME2"))
        self.load_seconds: float | None = None
        self._matrix = np.array(direction, dtype=float)
        self._positions = np.array(self.slice_positions_lps_mm, dtype=float).reshape(-1, 3)
        normal = np.cross(self._matrix[:, 0], self._matrix[:, 1])
        self._normal = normal / np.linalg.norm(normal)
        self._dists = self._positions @ self._normal
        self._lock = threading.Lock()
        self._loaded = 0
        self._done = threading.Event()
        self._cancelled = threading.Event()

    @property
    def scan_date(self) -> date | None:
        """When the images were acquired: Acquisition, else Series, else Study Date."""
        return scan_date_of(self.acquisition_date, self.series_date, self.study_date)

    # -- progressive loading -------------------------------------------------
    @property
    def slices_loaded(self) -> int:
        """How many slices hold their final values."""
        return self._loaded

    @property
    def is_complete(self) -> bool:
        """True once every slice has been loaded (or given up with a warning)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until loading has finished.

        Parameters
        ----------
        timeout : float or None
            Seconds to wait at most; None waits as long as it takes.

        Raises
        ------
        TimeoutError
            If loading is still running after *timeout* seconds.
        """
        if not self._done.wait(timeout):
            raise TimeoutError(
                f"series {self.series_instance_uid} still loading "
                f"({self._loaded}/{len(self.voxels)} slices)"
            )

    def cancel(self) -> None:
        """Stop a background load (e.g. the reader opened another series).

        Slices not decoded yet stay empty; ``is_complete`` becomes True and a
        warning says how many slices were loaded.
        """
        self._cancelled.set()

    @property
    def is_cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled.is_set()

    def _slice_done(self) -> int:
        with self._lock:
            self._loaded += 1
            return self._loaded

    def _finish(self, seconds: float) -> None:
        self.load_seconds = seconds
        self._done.set()

    # -- geometry --------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """``(slices, rows, columns)``."""
        return tuple(self.voxels.shape)

    def _slice_origin(self, s: float) -> np.ndarray:
        n = len(self._positions)
        origin: np.ndarray
        if n == 1:
            origin = self._positions[0] + s * self.spacing_mm[0] * self._matrix[:, 2]
            return origin
        i = int(min(max(np.floor(s), 0), n - 2))
        t = s - i
        origin = self._positions[i] + t * (self._positions[i + 1] - self._positions[i])
        return origin

    def index_to_lps(
        self,
        slice: float,
        row: float,
        column: float,  # noqa: A002
    ) -> tuple[float, float, float]:
        """Map a continuous voxel index to patient LPS millimetres.

        Parameters
        ----------
        slice, row, column : float
            Voxel index; integers are voxel centres.

        Returns
        -------
        tuple of float
            ``(x, y, z)`` in LPS mm, using the exact position of each slice.
        """
        p = (
            self._slice_origin(float(slice))
            + float(row) * self.spacing_mm[1] * self._matrix[:, 1]
            + float(column) * self.spacing_mm[2] * self._matrix[:, 0]
        )
        return (float(p[0]), float(p[1]), float(p[2]))

    def lps_to_index(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        """Map patient LPS millimetres to a continuous ``(slice, row, column)`` index.

        Parameters
        ----------
        x, y, z : float
            Point in LPS mm.

        Returns
        -------
        tuple of float
            The exact inverse of :meth:`index_to_lps`.
        """
        p = np.array([x, y, z], dtype=float)
        d = float(p @ self._normal)
        n = len(self._dists)
        if n == 1:
            step = self.spacing_mm[0] * float(self._matrix[:, 2] @ self._normal)
            s = (d - self._dists[0]) / step
        else:
            i = int(np.searchsorted(self._dists, d) - 1)
            i = min(max(i, 0), n - 2)
            s = i + (d - self._dists[i]) / (self._dists[i + 1] - self._dists[i])
        q = p - self._slice_origin(s)
        row = float(q @ self._matrix[:, 1]) / self.spacing_mm[1]
        column = float(q @ self._matrix[:, 0]) / self.spacing_mm[2]
        return (float(s), row, column)

    def value_range(self) -> tuple[float, float]:
        """Smallest and largest voxel value (of the slices loaded so far)."""
        if self.voxels.size == 0:
            return (0.0, 0.0)
        return (float(self.voxels.min()), float(self.voxels.max()))

    def __repr__(self) -> str:
        return (
            f"Volume({self.modality} {self.shape}, spacing={self.spacing_mm}, "
            f"series={self.series_instance_uid!r}, loaded={self._loaded})"
        )


def _float_or_none(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]  # DICOM DS/IS text
