"""Photos of a request: checked, re-encoded to their pixels only (no EXIF, no
metadata), bounded in size and count."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from ..models import RequestPhoto, ServiceRequest

try:  # HEIC photos from phones; pillow-heif comes with Wagtail.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_FORMATS = ("HEIF",)
except ImportError:  # pragma: no cover - optional
    HEIF_FORMATS = ()

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", *HEIF_FORMATS)


def process_photo(upload) -> tuple[ContentFile, ContentFile, int, int]:
    """Check and re-encode an uploaded photo: only its pixels are kept (no EXIF, no
    other metadata), orientation applied, pixel count bounded before decoding."""
    name = getattr(upload, "name", "") or _("photo")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise ValidationError({"photos": _(
            "%(name)s is larger than 10 MB.") % {"name": name}})
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationError({"photos": _("%(name)s is larger than 10 MB.") % {"name": name}})
    not_image = ValidationError({"photos": _(
        "%(name)s is not a photo: send a JPEG, PNG, WebP or HEIC image.") % {"name": name}})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=PHOTO_FORMATS) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS or width <= 0 or height <= 0:
                    raise ValidationError({"photos": _(
                        "%(name)s has too many pixels (at most 40 megapixels).")
                        % {"name": name}})
                image.load()
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "L"):
                    image = image.convert("RGBA").convert("RGB") if "A" in image.mode \
                        else image.convert("RGB")
                out = io.BytesIO()
                image.save(out, format="JPEG", quality=85, optimize=True)
                thumb = image.copy()
                thumb.thumbnail((400, 400))
                thumb_out = io.BytesIO()
                thumb.save(thumb_out, format="JPEG", quality=80)
                width, height = image.size
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError({"photos": _(
            "%(name)s has too many pixels (at most 40 megapixels).") % {"name": name}}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError,
            EOFError):
        raise not_image from None
    return (ContentFile(out.getvalue(), name="photo.jpg"),
            ContentFile(thumb_out.getvalue(), name="thumb.jpg"), width, height)


def prepare_photos(uploads: Iterable, already: int = 0) -> list[tuple]:
    uploads = [u for u in uploads if u]
    if len(uploads) + already > MAX_PHOTOS:
        raise ValidationError({"photos": _("At most %(n)d photos per request.") % {
            "n": MAX_PHOTOS}})
    return [process_photo(upload) for upload in uploads]


def _save_photos(request: ServiceRequest, prepared: list[tuple], user) -> None:
    for image, thumb, width, height in prepared:
        photo = RequestPhoto(request=request, width=width, height=height,
                             uploaded_by=user if user and user.is_authenticated else None)
        photo.image.save("photo.jpg", image, save=False)
        photo.thumbnail.save("thumb.jpg", thumb, save=False)
        photo.save()
