"""Errors raised by the PACS clients.

Every message says which PACS, what went wrong and what the reader can do,
and never contains a password.  Anything that stopped a retrieve also
guarantees that nothing was left in the series store.
"""

from __future__ import annotations


class PacsError(Exception):
    """A PACS operation failed; the message is fit to show to the reader."""


class PacsSettingsError(PacsError):
    """A PACS node's settings are invalid, or no node has the given name."""


class PacsConnectionError(PacsError):
    """The PACS could not be reached (server down, connection refused, unknown host)."""


class PacsAssociationRejected(PacsError):
    """The PACS refused the DICOM association (for example an unknown called AE title)."""


class PacsAuthenticationError(PacsError):
    """The PACS refused the credentials (HTTP 401/403)."""


class PacsTimeout(PacsError):
    """The PACS did not answer within the configured time."""


class PacsRetrieveIncomplete(PacsError):
    """A retrieve delivered fewer images than the series holds; nothing was imported."""


class RetrieveCancelled(PacsError):
    """The reader cancelled a retrieve; nothing was imported."""
