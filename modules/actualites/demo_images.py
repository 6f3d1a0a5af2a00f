"""Illustrations of the demo news: flat drawings made with Pillow, one per news item,
so the demo's cards (home page, news list) show the main image and its renditions without
shipping photographs or fetching anything.  Each has its alternative text in both
languages (the news form requires it)."""

from __future__ import annotations

import functools
import io
import random

from django.core.files.images import ImageFile
from PIL import Image as PILImage
from PIL import ImageDraw

W, H = 1280, 720

# slug: (French alt, English alt)
ALT = {
    "fermeture-pont-salaberry": ("Illustration d’un pont en arc au-dessus de la rivière, "
                                 "avec des cônes de chantier",
                                 "Illustration of an arch bridge over the river, with "
                                 "traffic cones"),
    "operation-deneigement": ("Illustration d’une rue enneigée la nuit et d’une "
                              "déneigeuse",
                              "Illustration of a snowy street at night and a snowplow"),
    "lancement-espace-citoyen": ("Illustration d’un téléphone affichant l’Espace citoyen "
                                 "devant les immeubles de la ville",
                                 "Illustration of a phone showing Espace citoyen in front "
                                 "of the city’s buildings"),
    "collecte-feuilles-automne": ("Illustration d’arbres aux couleurs de l’automne et de "
                                  "sacs de feuilles",
                                  "Illustration of trees in autumn colours and bags of "
                                  "leaves"),
    "inscriptions-camp-de-jour": ("Illustration d’un parc en été, avec des tentes et le "
                                  "soleil",
                                  "Illustration of a park in summer, with tents and the sun"),
    "patinoires-exterieures": ("Illustration d’une patinoire extérieure entourée de "
                               "sapins enneigés",
                               "Illustration of an outdoor rink surrounded by snowy fir "
                               "trees"),
}


def _sky(draw: ImageDraw.ImageDraw, top: tuple, bottom: tuple) -> None:
    for y in range(H):
        t = y / H
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (W, y)], fill=colour)


def _hills(draw, colour, base, amplitude, seed):
    rng = random.Random(seed)  # noqa: S311 - a drawing, not a secret
    points = [(0, H)]
    for x in range(0, W + 80, 80):
        points.append((x, base + rng.randint(-amplitude, amplitude)))
    points.append((W, H))
    draw.polygon(points, fill=colour)


def _fir(draw, x, y, size, colour=(27, 94, 62), snow=False):
    for i in range(3):
        top = y - size + i * size // 3
        half = size // 3 + i * size // 8
        draw.polygon([(x, top), (x - half, top + size // 2), (x + half, top + size // 2)],
                     fill=colour)
        if snow:
            draw.polygon([(x, top), (x - half // 3, top + size // 7), (x + half // 3,
                          top + size // 7)], fill=(250, 252, 255))
    draw.rectangle([x - size // 16, y + size // 6, x + size // 16, y + size // 3],
                   fill=(92, 64, 51))


def _bridge(draw):
    _sky(draw, (124, 181, 222), (214, 234, 248))
    _hills(draw, (96, 158, 108), 430, 25, 1)
    draw.rectangle([0, 500, W, H], fill=(45, 110, 160))
    for x in range(0, W, 60):
        draw.line([(x, 560 + (x % 120) // 6), (x + 30, 560 + (x % 120) // 6)],
                  fill=(120, 175, 215), width=3)
    draw.rectangle([80, 380, W - 80, 410], fill=(90, 90, 98))
    for cx in (360, 920):
        draw.arc([cx - 260, 300, cx + 260, 620], 180, 360, fill=(70, 70, 78), width=22)
        for px in range(cx - 200, cx + 220, 60):
            draw.line([(px, 410), (px, 470 - abs(px - cx) // 6)], fill=(70, 70, 78), width=8)
    for x in (520, 600, 680, 760):
        draw.polygon([(x, 380), (x - 18, 380), (x - 9, 330)], fill=(240, 120, 30))
        draw.rectangle([x - 15, 352, x - 3, 360], fill=(255, 255, 255))


def _snow(draw):
    _sky(draw, (18, 38, 72), (58, 84, 128))
    draw.ellipse([1030, 70, 1110, 150], fill=(246, 241, 214))
    for i, x in enumerate(range(60, W, 210)):
        h = 150 + (i * 37) % 90
        draw.rectangle([x, 470 - h, x + 150, 470], fill=(44, 62, 96))
        draw.polygon([(x - 10, 470 - h), (x + 75, 410 - h), (x + 160, 470 - h)],
                     fill=(236, 242, 250))
        for wy in range(490 - h, 450, 50):
            draw.rectangle([x + 25, wy, x + 55, wy + 26], fill=(255, 214, 120))
            draw.rectangle([x + 95, wy, x + 125, wy + 26], fill=(255, 214, 120))
    draw.rectangle([0, 470, W, H], fill=(232, 238, 246))
    draw.rectangle([0, 560, W, 640], fill=(170, 180, 196))
    draw.rectangle([520, 470, 760, 560], fill=(245, 166, 35))
    draw.rectangle([700, 430, 800, 520], fill=(245, 166, 35))
    draw.polygon([(470, 500), (520, 480), (520, 565), (440, 565)], fill=(110, 110, 118))
    for cx in (570, 720):
        draw.ellipse([cx - 40, 530, cx + 40, 610], fill=(40, 40, 44))
    rng = random.Random(7)  # noqa: S311 - a drawing, not a secret
    for _ in range(160):
        x, y, r = rng.randint(0, W), rng.randint(0, H), rng.randint(2, 6)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 255, 255))


def _launch(draw):
    _sky(draw, (0, 81, 122), (0, 58, 88))
    for i, x in enumerate(range(0, W, 130)):
        h = 180 + (i * 53) % 220
        draw.rectangle([x + 5, H - h, x + 120, H], fill=(16, 98, 140))
        for wy in range(H - h + 20, H - 20, 36):
            for wx in range(x + 20, x + 110, 30):
                draw.rectangle([wx, wy, wx + 14, wy + 18], fill=(70, 150, 190))
    draw.rounded_rectangle([500, 90, 780, 660], radius=40, fill=(20, 24, 30))
    draw.rounded_rectangle([518, 130, 762, 620], radius=14, fill=(255, 255, 255))
    draw.rectangle([518, 130, 762, 200], fill=(11, 47, 69))
    for row in range(3):
        for col in range(2):
            x0, y0 = 536 + col * 116, 220 + row * 128
            draw.rounded_rectangle([x0, y0, x0 + 100, y0 + 110], radius=10,
                                   fill=(230, 239, 245), outline=(0, 81, 122), width=3)
            draw.ellipse([x0 + 32, y0 + 22, x0 + 68, y0 + 58], fill=(0, 81, 122))


def _leaves(draw):
    _sky(draw, (250, 214, 165), (253, 238, 214))
    _hills(draw, (150, 120, 60), 520, 20, 3)
    colours = [(214, 84, 32), (232, 140, 30), (190, 50, 40), (240, 180, 40)]
    for i, x in enumerate(range(90, W, 230)):
        draw.rectangle([x - 14, 330, x + 14, 560], fill=(96, 60, 40))
        for j in range(6):
            dx, dy = (j * 47) % 120 - 60, (j * 31) % 90 - 40
            r = 90 - j * 6
            draw.ellipse([x + dx - r, 250 + dy - r, x + dx + r, 250 + dy + r],
                         fill=colours[(i + j) % 4])
    for x in (420, 520, 960):
        draw.rounded_rectangle([x, 540, x + 80, 650], radius=18, fill=(156, 110, 64))
        draw.line([(x + 20, 545), (x + 60, 545)], fill=(110, 76, 40), width=6)
    rng = random.Random(11)  # noqa: S311 - a drawing, not a secret
    for _ in range(70):
        x, y = rng.randint(0, W), rng.randint(560, H)
        draw.ellipse([x, y, x + 18, y + 10], fill=rng.choice(colours))


def _camp(draw):
    _sky(draw, (110, 190, 240), (200, 232, 250))
    draw.ellipse([1010, 60, 1170, 220], fill=(255, 204, 51))
    _hills(draw, (120, 190, 90), 450, 30, 5)
    _hills(draw, (82, 160, 70), 540, 18, 6)
    for x, colour in ((300, (230, 90, 60)), (620, (40, 120, 200)), (900, (250, 170, 40))):
        draw.polygon([(x, 430), (x - 130, 620), (x + 130, 620)], fill=colour)
        draw.polygon([(x, 470), (x - 36, 620), (x + 36, 620)], fill=(60, 40, 30))
    for x in (100, 1180):
        _fir(draw, x, 470, 240)


def _rink(draw):
    _sky(draw, (164, 204, 232), (232, 242, 250))
    _hills(draw, (244, 248, 252), 420, 20, 9)
    draw.ellipse([220, 440, 1060, 680], fill=(190, 226, 246), outline=(140, 70, 50), width=14)
    draw.line([(640, 450), (640, 670)], fill=(200, 60, 60), width=6)
    draw.ellipse([590, 530, 690, 590], outline=(60, 110, 200), width=5)
    for x in (60, 170, 1110, 1220):
        _fir(draw, x, 470, 260, snow=True)
    for x, colour in ((470, (200, 40, 60)), (820, (30, 90, 170))):
        draw.ellipse([x - 18, 470, x + 18, 506], fill=(240, 200, 170))
        draw.rectangle([x - 24, 506, x + 24, 580], fill=colour)
        draw.line([(x - 10, 580), (x - 20, 630)], fill=(40, 40, 50), width=10)
        draw.line([(x + 10, 580), (x + 24, 628)], fill=(40, 40, 50), width=10)


DRAWINGS = {
    "fermeture-pont-salaberry": _bridge,
    "operation-deneigement": _snow,
    "lancement-espace-citoyen": _launch,
    "collecte-feuilles-automne": _leaves,
    "inscriptions-camp-de-jour": _camp,
    "patinoires-exterieures": _rink,
}


@functools.cache
def drawing(slug: str) -> bytes:
    """The JPEG illustration of the news ``slug`` (drawn once per process: the demo is
    loaded by many tests)."""
    picture = PILImage.new("RGB", (W, H))
    DRAWINGS[slug](ImageDraw.Draw(picture))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def illustrate(page) -> None:
    """Give a new, unsaved demo news ``page`` its illustration and French alternative
    text before its first publication, so that loading the demo publishes each page
    once (a translation copies the image; :func:`attach` sets its English text)."""
    if page.slug not in DRAWINGS or page.main_image_id:
        return
    page.main_image = _image(page.slug, page.title)
    page.main_image_alt = ALT[page.slug][0]


def english_alt(slug: str) -> str:
    return ALT[slug][1] if slug in ALT else ""


def _image(slug: str, title: str):
    from wagtail.images import get_image_model

    image = get_image_model()(title=f"Démo — {title}")
    image.file = ImageFile(io.BytesIO(drawing(slug)), name=f"demo-{slug}.jpg")
    image.save()
    return image


def attach(page, translation) -> None:
    """Give the demo news ``page`` (and its English ``translation``) its illustration,
    once: a page that has an image (the demo's or an editor's) keeps it."""
    slug = page.slug
    if slug not in DRAWINGS or page.main_image_id:
        return
    image = _image(slug, page.title)
    alt_fr, alt_en = ALT[slug]
    for target, alt in ((page, alt_fr), (translation, alt_en)):
        if target is None or target.main_image_id:
            continue
        target.main_image = image
        target.main_image_alt = alt
        target.save_revision().publish()
