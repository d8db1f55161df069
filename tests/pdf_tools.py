"""Reading the PDFs Caliper writes, with Python packages only (no poppler on a fresh machine).

``pdf_text`` extracts the text with pypdf; ``pdf_pages`` renders each page to a PNG with pypdfium2.
Both come with the ``test`` extra, so the suite needs no system program for PDFs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pypdfium2


def pdf_text(pdf: Path) -> str:
    """All text of ``pdf``, page after page, in layout mode (columns kept apart)."""
    reader = pypdf.PdfReader(str(pdf))
    text = "\n".join(page.extract_text(extraction_mode="layout") for page in reader.pages)
    # pypdf separates words by tabs: one tab is a space, several are a gap between columns
    return re.sub(r"\t+", lambda gap: " " if len(gap.group()) == 1 else "    ", text)


def pdf_pages(pdf: Path, out_dir: Path, *, dpi: int = 40) -> list[Path]:
    """Render every page of ``pdf`` to ``out_dir/page-N.png``; return the files in page order."""
    document = pypdfium2.PdfDocument(str(pdf))
    pages: list[Path] = []
    try:
        for number in range(len(document)):
            image = document[number].render(scale=dpi / 72).to_pil()
            target = out_dir / f"page-{number + 1}.png"
            image.save(target)
            pages.append(target)
    finally:
        document.close()
    return pages
