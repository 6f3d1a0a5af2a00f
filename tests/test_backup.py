"""The backup and restore drill: ``manage.py hub backup`` then ``hub restore`` into an
emptied database and media directory gives back the same row counts and media
checksums; a tampered archive restores nothing."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hub import backup
from hub.models import Department, PrivacyIncident
from tests.conftest import make_user


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "requetes" / "2026").mkdir(parents=True)
    (settings.MEDIA_ROOT / "requetes" / "2026" / "photo.jpg").write_bytes(b"\xff\xd8" * 500)
    (settings.MEDIA_ROOT / "original_images").mkdir()
    (settings.MEDIA_ROOT / "original_images" / "logo.png").write_bytes(b"\x89PNG" * 10)
    return settings.MEDIA_ROOT


def empty_everything(media_root):
    # An empty database: the tables, no rows (not even what post_migrate would add).
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    for path in sorted(media_root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_then_restore_into_an_empty_database(media, tmp_path):
    make_user("resident@example.com")
    Department.objects.create(name="Travaux publics", slug="tp")
    before_counts = backup.row_counts()
    before_media = backup.media_checksums()
    assert before_counts["hub_user"] == 1 and len(before_media) == 2

    out = io.StringIO()
    call_command("hub", "backup", str(tmp_path / "sauvegarde"), stdout=out)
    assert "backup:" in out.getvalue()
    manifest = json.loads((tmp_path / "sauvegarde" / "manifest.json").read_text())
    assert manifest["row_counts"] == before_counts and manifest["media"] == before_media

    empty_everything(media)
    assert backup.row_counts()["hub_user"] == 0 and backup.media_checksums() == {}

    call_command("hub", "restore", str(tmp_path / "sauvegarde"), stdout=io.StringIO())
    assert backup.row_counts() == before_counts
    assert backup.media_checksums() == before_media
    assert Department.objects.get().slug == "tp"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tampered_backup_restores_nothing(media, tmp_path):
    Department.objects.create(name="Loisirs", slug="loisirs")
    call_command("hub", "backup", str(tmp_path / "b"), stdout=io.StringIO())
    archive = tmp_path / "b" / "media.tar.gz"
    archive.write_bytes(archive.read_bytes() + b"x")
    PrivacyIncident.objects.all().delete()
    Department.objects.create(name="Après", slug="apres")
    with pytest.raises(CommandError, match="checksum"):
        call_command("hub", "restore", str(tmp_path / "b"), stdout=io.StringIO())
    assert Department.objects.filter(slug="apres").exists()  # nothing was restored
    with pytest.raises(CommandError, match="not empty"):
        call_command("hub", "backup", str(tmp_path / "b"), stdout=io.StringIO())
