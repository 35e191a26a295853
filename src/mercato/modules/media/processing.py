"""Turn an uploaded file into safe images: sniff the type from its bytes, re-encode it
without metadata, and cut the 600 px and 200 px renditions.

Re-encoding is the point: it drops EXIF (camera serials, GPS positions), ICC and text
chunks, and whatever a crafted file hid after its image data. The file name and the
client's Content-Type are never trusted.

A small file can declare a huge canvas (a 100 KB PNG of 30 MP decodes to ~120 MB, and the
pipeline holds a few copies), so the size is checked from the header, before decoding,
against what the decoded working copy would weigh: `MAX_DECODED_BYTES` at the widest mode
the pipeline works in (RGBA, 4 bytes a pixel) — about 26 MP, room for a 24 MP camera photo.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from mercato.kernel.errors import DomainError

MAX_DECODED_BYTES = 100 * 1_048_576
WORKING_BYTES_PER_PIXEL = 4  # RGBA, the widest mode an image is processed in
THUMBNAIL_SIZES = (600, 200)
JPEG_QUALITY = 88

# Leading bytes of each accepted format → (Pillow format, stored format).
SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG", "PNG"),
    (b"GIF87a", "GIF", "PNG"),
    (b"GIF89a", "GIF", "PNG"),
)
STORED = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


class UnsupportedImage(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Not a JPEG, PNG, GIF or WebP image"


class ImageTooLarge(DomainError):
    status, slug, title = 422, "image-too-large", "The image has too many pixels to process"


@dataclass(frozen=True)
class Rendition:
    name: str
    data: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ProcessedImage:
    content_type: str
    extension: str
    renditions: list[Rendition]

    @property
    def original(self) -> Rendition:
        return self.renditions[0]


def sniff(data: bytes) -> tuple[str, str] | None:
    """(Pillow format, stored format) from the file's first bytes, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP", "WEBP"
    for signature, source, stored in SIGNATURES:
        if data.startswith(signature):
            return source, stored
    return None


def _encode(image: Image.Image, stored: str) -> bytes:
    clean = image.copy()
    clean.info = {}
    buffer = io.BytesIO()
    if stored == "JPEG":
        clean.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif stored == "WEBP":
        clean.save(buffer, "WEBP", quality=JPEG_QUALITY)
    else:
        clean.save(buffer, "PNG")
    return buffer.getvalue()


def process_image(data: bytes) -> ProcessedImage:
    """The re-encoded original and its thumbnails; raises on anything but a real image."""
    kind = sniff(data)
    if kind is None:
        raise UnsupportedImage("The file is not a JPEG, PNG, GIF or WebP image")
    source, stored = kind
    try:
        with Image.open(io.BytesIO(data), formats=[source]) as opened:
            width, height = opened.size
            decoded = width * height * WORKING_BYTES_PER_PIXEL
            if decoded > MAX_DECODED_BYTES:
                raise ImageTooLarge(
                    f"{width}x{height} pixels would take {decoded // 1_048_576} MiB to process; "
                    f"the most is {MAX_DECODED_BYTES // 1_048_576} MiB (about "
                    f"{MAX_DECODED_BYTES // WORKING_BYTES_PER_PIXEL // 1_000_000} megapixels)"
                )
            opened.seek(0)
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedImage("The image data is damaged or not what it claims") from exc
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    original = Rendition("original", _encode(image, stored), *image.size)
    renditions = [original]
    for size in THUMBNAIL_SIZES:
        if max(image.size) <= size:  # already small enough: the clean original serves
            renditions.append(Rendition(str(size), original.data, *image.size))
            continue
        thumbnail = image.copy()
        thumbnail.thumbnail((size, size), Image.Resampling.LANCZOS)
        renditions.append(Rendition(str(size), _encode(thumbnail, stored), *thumbnail.size))
    content_type, extension = STORED[stored]
    return ProcessedImage(content_type, extension, renditions)
