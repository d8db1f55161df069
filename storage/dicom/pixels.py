"""Decode one frame straight into its slice of the preallocated volume.

Native little-endian data are read from the file at the pixel data offset
found during discovery, into the output array itself (no intermediate copy
when the output is int16).  Compressed data in a file on disk are read from
the offset of their encapsulated value and decoded by the decoders of
:mod:`storage.dicom.decoders`, in its order, without parsing the dataset
again.  Everything else (deflate, big endian, float pixel data, zip members,
files whose header needed pydicom) goes through a full pydicom parse; a
compressed syntax pydicom has no decoder for (e.g. retired JPEG processes)
is then read by GDCM as a whole file.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterable

import numpy as np
import pydicom
import pydicom.pixels
from pydicom.dataset import Dataset

import storage.dicom.decoders as decoders
import storage.dicom.deflate as deflate
import storage.dicom.gdcm_decoder as gdcm_decoder
import storage.dicom.imagecodecs_decoder as imagecodecs_decoder
from storage.dicom.headers import DEFLATED_LE, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE
from storage.dicom.quiet import pydicom_quiet
from storage.dicom.records import FileHeader, FrameHeader

INT16_MIN, INT16_MAX = -32768, 32767
#: Uncompressed transfer syntaxes (pydicom always decodes them; a failure is damage).
_NATIVE = frozenset({IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE})


def _raw_range(head: FileHeader) -> tuple[int, int]:
    bits = min(head.bits_stored, head.bits_allocated)
    if head.pixel_representation == 1:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def choose_dtype(images: Iterable[tuple[FileHeader, FrameHeader]]) -> tuple[np.dtype, bool]:
    """Pick the output type: int16 when rescaling is integral and the values fit.

    Parameters
    ----------
    images : iterable of (FileHeader, FrameHeader)
        The images of the volume.

    Returns
    -------
    dtype : numpy.dtype
        ``int16`` or ``float32``.
    checked : bool
        True when int16 was chosen although the *declared* range (from Bits
        Stored) does not fit, e.g. signed 16-bit CT with intercept -1024: every
        decoded slice is then checked, and the loader switches to float32 if
        an actual value does not fit.
    """
    checked = False
    for head, frame in images:
        if head.pixel_keyword != "PixelData" or head.bits_allocated > 16:
            return np.dtype(np.float32), False
        if not (float(frame.slope).is_integer() and float(frame.intercept).is_integer()):
            return np.dtype(np.float32), False
        lo, hi = _raw_range(head)
        ends = (lo * frame.slope + frame.intercept, hi * frame.slope + frame.intercept)
        if min(ends) < INT16_MIN or max(ends) > INT16_MAX:
            checked = True
    return np.dtype(np.int16), checked


class ValueOverflow(ValueError):
    """A decoded value does not fit the int16 output (the loader switches to float32)."""


def lowest_value(dtype: np.dtype, images: list[tuple[FileHeader, FrameHeader]]) -> float:
    """The value that fills a slice that could not be decoded (the darkest one)."""
    head, frame = images[0]
    lo, hi = _raw_range(head)
    value = min(lo * frame.slope + frame.intercept, hi * frame.slope + frame.intercept)
    return float(max(value, INT16_MIN)) if dtype == np.int16 else float(value)


class FrameDecoder:
    """Decodes frames into output slices; one instance per volume load.

    Thread-safe: each worker thread keeps its own open archives, last parsed
    dataset and scratch buffer.

    Parameters
    ----------
    dtype : numpy.dtype
        The output type chosen by :func:`choose_dtype`.
    checked : bool
        Check that every int16 value fits (raise :class:`ValueOverflow`).
    """

    def __init__(self, dtype: np.dtype, checked: bool = False) -> None:
        self.dtype = np.dtype(dtype)
        self.checked = checked and self.dtype == np.int16
        self._local = threading.local()
        #: The decoder that worked last, per transfer syntax: tried first next time.
        self._worked: dict[str, str] = {}

    def decode(self, head: FileHeader, frame: FrameHeader, out: np.ndarray) -> None:
        """Decode *frame* of *head* and store its rescaled values in *out*.

        Parameters
        ----------
        head : FileHeader
            The file.
        frame : FrameHeader
            Which frame, with its rescale slope and intercept.
        out : numpy.ndarray
            C-contiguous ``(rows, columns)`` view of the volume.

        Raises
        ------
        ValueOverflow
            If the output is int16, checking is on and a value does not fit.
        ValueError, OSError
            If the data cannot be read or decoded (the caller names the file).
        """
        if self._fast_path_ok(head):
            self._decode_native(head, frame, out)
        elif (
            head.encapsulated_offset is not None
            and head.member is None
            and head.transfer_syntax in decoders.ORDER
        ):
            if not (self._direct_ok(head) and self._decode_direct(head, frame, out)):
                self._decode_encapsulated(head, frame, out)
        else:
            self._decode_pydicom(head, frame, out)

    @staticmethod
    def _fast_path_ok(head: FileHeader) -> bool:
        return (
            head.member is None
            and head.pixel_offset is not None
            and head.transfer_syntax in (IMPLICIT_LE, EXPLICIT_LE)
            and head.pixel_keyword == "PixelData"
            and head.bits_allocated in (8, 16)
            and head.samples_per_pixel == 1
        )

    def _direct_ok(self, head: FileHeader) -> bool:
        """True when imagecodecs comes first for this syntax and can take the value itself."""
        syntax = head.transfer_syntax
        return (
            decoders.plugins_for(syntax)[:1] == (decoders.IMAGECODECS,)
            and self._worked.get(syntax, decoders.IMAGECODECS) == decoders.IMAGECODECS
            and imagecodecs_decoder.can_decode_value(
                syntax,
                samples_per_pixel=head.samples_per_pixel,
                n_frames=head.n_frames,
                photometric=head.photometric,
                bits_allocated=head.bits_allocated,
                bits_stored=head.bits_stored,
                pixel_representation=head.pixel_representation,
                rows=head.rows,
                columns=head.columns,
                pixel_keyword=head.pixel_keyword,
            )
        )

    def _decode_direct(self, head: FileHeader, frame: FrameHeader, out: np.ndarray) -> bool:
        """Decode the frame with imagecodecs, without pydicom's decode runner.

        Returns False when the short cut does not apply to this value (no
        frame where expected, an unexpected shape or sample type): the caller
        then decodes it through pydicom's decoders, which name the problem.
        """
        try:
            arr = imagecodecs_decoder.decode_value(
                self._encapsulated_value(head),
                head.transfer_syntax,
                rows=head.rows,
                columns=head.columns,
                bits_allocated=head.bits_allocated,
                bits_stored=head.bits_stored,
                pixel_representation=head.pixel_representation,
            )
        except Exception:  # noqa: BLE001 - any failure: pydicom's path decides and reports
            return False
        if arr.shape != out.shape:
            return False
        self._rescale_into(arr, frame, out)
        return True

    def _scratch(self, nbytes: int) -> np.ndarray:
        buf = getattr(self._local, "scratch", None)
        if buf is None or buf.nbytes < nbytes:
            buf = np.empty(nbytes, dtype=np.uint8)
            self._local.scratch = buf
        return buf[:nbytes]

    def _decode_native(self, head: FileHeader, frame: FrameHeader, out: np.ndarray) -> None:
        itemsize = head.bits_allocated // 8
        nbytes = head.rows * head.columns * itemsize
        raw_type = np.dtype(f"<{'i' if head.pixel_representation == 1 else 'u'}{itemsize}")
        direct = self.dtype == np.int16 and itemsize == 2
        target = out.reshape(-1).view(np.uint8) if direct else self._scratch(nbytes)
        offset = head.pixel_offset + frame.index * nbytes  # type: ignore[operator]  # native data: offset known
        with open(head.file_path, "rb", buffering=0) as fp:
            fp.seek(offset)
            view = target.data  # memoryview(target); numpy types __buffer__ from Python 3.12 only
            got = 0
            while got < nbytes:
                n = fp.readinto(view[got:])
                if not n:
                    raise ValueError(
                        f"truncated: frame {frame.index + 1} needs {nbytes} bytes "
                        f"at offset {offset}, the file holds only {got}"
                    )
                got += n
        raw = target.view(raw_type).reshape(head.rows, head.columns)
        raw = self._fix_bits(head, raw)
        if direct:
            # The range check in choose_dtype guarantees the int16 view is exact.
            ints = out
            if self.checked:
                self._check(int(raw.min()), int(raw.max()), frame)
            if frame.slope != 1:
                np.multiply(ints, int(frame.slope), out=ints)
            if frame.intercept != 0:
                np.add(ints, int(frame.intercept), out=ints, casting="unsafe")
            return
        self._rescale_into(raw, frame, out)

    @staticmethod
    def _fix_bits(head: FileHeader, raw: np.ndarray) -> np.ndarray:
        """Mask unused high bits (unsigned) or sign-extend (signed)."""
        unused = head.bits_allocated - head.bits_stored
        if unused <= 0 or head.bits_allocated == 8 and head.bits_stored >= 8:
            return raw
        if head.pixel_representation == 1:
            np.left_shift(raw, unused, out=raw)
            np.right_shift(raw, unused, out=raw)
        else:
            np.bitwise_and(raw, raw.dtype.type((1 << head.bits_stored) - 1), out=raw)
        return raw

    def _check(self, lo: int, hi: int, frame: FrameHeader) -> None:
        ends = (lo * frame.slope + frame.intercept, hi * frame.slope + frame.intercept)
        if min(ends) < INT16_MIN or max(ends) > INT16_MAX:
            raise ValueOverflow(f"values {min(ends):g}..{max(ends):g} do not fit int16")

    def _rescale_into(self, raw: np.ndarray, frame: FrameHeader, out: np.ndarray) -> None:
        if self.dtype == np.int16:
            if self.checked:
                self._check(int(raw.min()), int(raw.max()), frame)
            if frame.slope == 1 and frame.intercept == 0:
                out[...] = raw
            elif frame.slope == 1 and raw.dtype.itemsize <= 2 and abs(frame.intercept) < 2**31:
                # in place: the same int32 sum, cast to int16 without a temporary volume slice
                np.add(raw, np.int32(frame.intercept), out=out, casting="unsafe")
            else:
                out[...] = raw.astype(np.int32) * int(frame.slope) + int(frame.intercept)
            return
        np.multiply(raw, np.float32(frame.slope), out=out, casting="unsafe")
        if frame.intercept:
            out += np.float32(frame.intercept)

    def _dataset(self, head: FileHeader) -> Dataset:
        """Parse the whole file (cached per thread for multi-frame files)."""
        last = getattr(self._local, "last", None)
        if last is not None and last[0] == head.path:
            cached: Dataset = last[1]
            return cached
        with pydicom_quiet():
            if head.transfer_syntax == DEFLATED_LE:
                ds = self._inflated(head)
            elif head.member is None:
                ds = pydicom.dcmread(head.file_path, force=True)
            else:
                ds = pydicom.dcmread(io.BytesIO(self._member_bytes(head)), force=True)
        self._local.last = (head.path, ds)
        return ds

    def _inflated(self, head: FileHeader) -> Dataset:
        """A deflated file, inflated no further than its declared pixel data need."""
        if head.member is None:
            with open(head.file_path, "rb") as fp:
                data = fp.read()
        else:
            data = self._member_bytes(head)
        start = deflate.deflated_start(data[: 64 * 1024])
        if start is None:
            raise ValueError("the file meta information does not say deflated any more")
        declared = head.rows * head.columns * head.n_frames * max(head.bits_allocated // 8, 1)
        return deflate.read_whole(data, start, declared + deflate.MAX_HEADER_INFLATED)

    def _member_bytes(self, head: FileHeader) -> bytes:
        archives = getattr(self._local, "archives", None)
        if archives is None:
            archives = self._local.archives = {}
        archive = archives.get(head.file_path)
        if archive is None:
            archive = archives[head.file_path] = zipfile.ZipFile(head.file_path)
        return archive.read(head.member)  # type: ignore[arg-type]  # a zip header has its member

    def _encapsulated_value(self, head: FileHeader) -> bytes:
        """The encapsulated pixel data value to the end of the file (cached per thread)."""
        last: tuple[str, bytes] | None = getattr(self._local, "value", None)
        if last is not None and last[0] == head.file_path:
            return last[1]
        with open(head.file_path, "rb") as fp:
            fp.seek(head.encapsulated_offset)  # type: ignore[arg-type]  # checked by the caller
            value = fp.read()
        self._local.value = (head.file_path, value)
        return value

    def _decode_with(
        self, src: object, head: FileHeader, frame: FrameHeader, **options: object
    ) -> np.ndarray:
        syntax = head.transfer_syntax
        with pydicom_quiet():
            arr, used = decoders.decode(
                src, syntax, index=frame.index, first=self._worked.get(syntax), **options
            )
        if used:
            self._worked[syntax] = used
        return arr

    def _decode_encapsulated(self, head: FileHeader, frame: FrameHeader, out: np.ndarray) -> None:
        arr = self._decode_with(
            self._encapsulated_value(head),
            head,
            frame,
            rows=head.rows,
            columns=head.columns,
            samples_per_pixel=head.samples_per_pixel,
            bits_allocated=head.bits_allocated,
            bits_stored=head.bits_stored,
            pixel_representation=head.pixel_representation,
            photometric_interpretation=head.photometric,
            number_of_frames=head.n_frames,
            pixel_keyword=head.pixel_keyword,
        )
        if arr.shape != out.shape:
            raise ValueError(f"decoded frame has shape {arr.shape}, expected {out.shape}")
        self._rescale_into(arr, frame, out)

    def _gdcm_frame(self, head: FileHeader, frame: FrameHeader, error: Exception) -> np.ndarray:
        """The last resort: GDCM reads the whole file (cached per thread for multi-frame)."""
        last: tuple[str, np.ndarray] | None = getattr(self._local, "gdcm", None)
        if last is None or last[0] != head.file_path:
            try:
                last = (head.file_path, gdcm_decoder.read_file(head.file_path))
            except ValueError as exc:
                raise ValueError(f"{decoders.first_line(error)}; GDCM: {exc}") from error
            self._local.gdcm = last
        if frame.index >= len(last[1]):
            raise ValueError(f"GDCM found {len(last[1])} frames, not {frame.index + 1}")
        return self._fix_bits(head, last[1][frame.index].copy())

    def _decode_pydicom(self, head: FileHeader, frame: FrameHeader, out: np.ndarray) -> None:
        ds = self._dataset(head)
        if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
            raise ValueError("no pixel data")
        if head.transfer_syntax in decoders.ORDER:
            arr = self._decode_with(ds, head, frame)
        else:
            try:
                with pydicom_quiet():
                    if head.n_frames > 1:
                        arr = pydicom.pixels.pixel_array(ds, index=frame.index)  # type: ignore[attr-defined]  # re-exported without __all__
                    else:
                        arr = ds.pixel_array
            except Exception as exc:  # noqa: BLE001 - no pydicom decoder: GDCM's turn
                if head.member is not None or head.transfer_syntax in _NATIVE:
                    raise  # damaged native data: no second opinion
                arr = self._gdcm_frame(head, frame, exc)
        if arr.shape != out.shape:
            raise ValueError(f"decoded frame has shape {arr.shape}, expected {out.shape}")
        self._rescale_into(arr, frame, out)
