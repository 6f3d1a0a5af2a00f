"""Registering residents without an account in the admin: one by one, or from a CSV
file previewed (dry run, line-by-line errors) before anything is written."""

from django.core.files.uploadedfile import SimpleUploadedFile

from modules.alertes.models import Address, ConsentRecord, Subscriber

CSV = """name,phone,email,address,language,district,topics
Jeanne Roy,450 371-0001,,12 rue Victoria,fr,nord-test,deneigement
Paul Smith,4503710002,paul@example.com,3 rue Grande-Île,en,,loisirs;deneigement
Mauvais,123,,,fr,,
Inconnu,4503710003,,,fr,nulle-part,
"""
URL = "/admin/alertes/abonnes/importer/"


def upload(client, content: bytes, name="residents.csv", **extra):
    return client.post(URL, {"file": SimpleUploadedFile(name, content, "text/csv"),
                             "consent": "on", "consent_note": "formulaires papier signés",
                             **extra})


def test_upload_is_a_dry_run_with_errors_per_line(client, officer, topics, districts):
    client.force_login(officer)
    assert client.get(URL).status_code == 200
    response = upload(client, CSV.encode())
    assert response.status_code == 200
    html = response.content.decode()
    assert not Subscriber.objects.exists() and not ConsentRecord.objects.exists()
    preview = response.context["preview"]
    assert preview["created"] == 2 and [line for line, _m in preview["errors"]] == [4, 5]
    assert "nulle-part" in html  # the reason is shown for line 5
    # Confirming writes the previewed file.
    content = response.context["confirm"].initial["content"]
    response = client.post(URL, {"content": content,
                                 "consent_note": "formulaires papier signés"})
    assert response.status_code == 200 and response.context["result"]["created"] == 2
    assert Subscriber.objects.count() == 2
    jeanne = Subscriber.objects.get(name="Jeanne Roy")
    assert jeanne.registered_by == officer and jeanne.district.slug == "nord-test"
    consent = ConsentRecord.objects.get(subscriber=jeanne, scope="all")
    assert consent.method == "import" and consent.note == "formulaires papier signés"
    assert consent.actor == officer


def test_windows_1252_file_is_read(client, officer, topics):
    client.force_login(officer)
    data = "name;phone\nHélène Côté;450 371-0009\n".encode("cp1252")
    response = upload(client, data)
    assert response.context["preview"]["created"] == 1
    assert not Subscriber.objects.exists()


def test_garbage_files_are_refused_and_nothing_is_created(client, officer, topics):
    client.force_login(officer)
    for content, name in [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "photo.csv"),
                          (b"\xff\xfe\x00\x00garbage\x81\x8d\x8f", "x.csv"),
                          (b"", "empty.csv"),
                          (b"foo,bar\n1,2\n", "columns.csv"),
                          (b"name,phone\n", "header-only.csv")]:
        response = upload(client, content, name=name)
        assert response.status_code == 200
        assert "preview" not in response.context
        assert response.context["form"].errors.get("file"), name
    assert not Subscriber.objects.exists() and not ConsentRecord.objects.exists()


def test_too_large_file_is_refused(client, officer, topics, settings):
    client.force_login(officer)
    big = b"name,phone\n" + b"Jeanne Roy,4503710001\n" * 110_000  # > 2 MB
    response = upload(client, big)
    assert "preview" not in response.context
    assert "2 MB" in str(response.context["form"].errors["file"]) or \
        "2 Mo" in str(response.context["form"].errors["file"])
    assert not Subscriber.objects.exists()


def test_consent_must_be_confirmed(client, officer, topics):
    client.force_login(officer)
    response = client.post(URL, {"file": SimpleUploadedFile("r.csv", CSV.encode()),
                                 "consent_note": "x"})
    assert response.context["form"].errors.get("consent")
    assert not Subscriber.objects.exists()


def test_register_one_resident_with_a_landline(client, officer, topics, districts):
    client.force_login(officer)
    url = "/admin/alertes/abonnes/inscrire/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Jeanne Roy", "phone": "450 371-0001",
                                 "language": "fr", "voice": "on", "consent_note": "par "
                                 "téléphone", "topics": [topics["deneigement"].pk]})
    assert response.status_code == 200 and not Subscriber.objects.exists()  # no consent box
    response = client.post(url, {"name": "Jeanne Roy", "phone": "12", "language": "fr",
                                 "voice": "on", "consent": "on", "consent_note": "tél."})
    assert response.status_code == 200 and not Subscriber.objects.exists()  # bad number
    response = client.post(url, {"name": "Jeanne Roy", "phone": "450 371-0001",
                                 "language": "fr", "voice": "on", "consent": "on",
                                 "consent_note": "par téléphone le 28 novembre",
                                 "district": districts[0].pk,
                                 "topics": [topics["deneigement"].pk]})
    assert response.status_code == 302
    jeanne = Subscriber.objects.get()
    assert jeanne.user is None and jeanne.registered_by == officer
    [voice] = Address.objects.filter(subscriber=jeanne)
    assert voice.channel == "voice" and voice.value == "+14503710001" and voice.verified
    assert ConsentRecord.objects.get(subscriber=jeanne, scope="all").note == \
        "par téléphone le 28 novembre"


def test_only_officers_register_or_import(client, agent_a, editor, approver, topics):
    for user in (agent_a, editor, approver):
        client.force_login(user)
        for url in (URL, "/admin/alertes/abonnes/inscrire/"):
            assert client.get(url).status_code == 302
        upload(client, CSV.encode())
    assert not Subscriber.objects.exists()
