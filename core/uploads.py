"""Refuse an oversized upload while it arrives, not after it is spooled.

Django writes an upload to a temporary file before a view runs, so a size check
in the view lets a 5 GB file fill the disk first. This handler counts bytes as
they come and, past settings.IMPORT_MAX_BYTES (imports are the only large
uploads), stops storing the file and leaves a message for the view.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest

REFUSED_ATTRIBUTE = "upload_refused"


class SizeLimitedUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        limit = settings.IMPORT_MAX_BYTES
        if self.received > limit:
            setattr(
                self.request,
                REFUSED_ATTRIBUTE,
                f"{self.file_name} is over the limit of {limit / 1e6:.0f} MB. "
                "Split the export into smaller files.",
            )
            # The rest of the body is read and dropped: the page can answer.
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


def upload_refusal(request: HttpRequest) -> str | None:
    """The message for an upload SizeLimitedUploadHandler refused, if any."""
    refused = getattr(request, REFUSED_ATTRIBUTE, None)
    return refused if isinstance(refused, str) else None
