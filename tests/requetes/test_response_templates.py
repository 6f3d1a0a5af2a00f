"""Response templates: the picker fills the public message (with and without
JavaScript), in the requester's language; the snippet is edited by administrators and,
for their departments' templates only, by department agents."""

import pytest
from django.urls import reverse

from modules.requetes import demo as requetes_demo
from modules.requetes import services
from modules.requetes.forms import ReplyForm, TransitionForm
from modules.requetes.models import RequestEvent, ResponseTemplate


@pytest.fixture
def templates(departments):
    a, b = departments
    return {
        "shared": ResponseTemplate.objects.create(title="Reçu", body_fr="Bien reçu.",
                                                  body_en="Received."),
        "a": ResponseTemplate.objects.create(title="Équipe", department=a,
                                             body_fr="Une équipe est en route."),
        "b": ResponseTemplate.objects.create(title="Collecte", department=b,
                                             body_fr="Collecte reprise."),
        "off": ResponseTemplate.objects.create(title="Ancien", department=a, active=False,
                                               body_fr="Ne plus utiliser."),
    }


def detail_url(obj):
    return reverse("requetes_admin:detail", args=[obj.pk])


def test_picker_offers_department_and_shared_active_templates(make_request, templates):
    obj = make_request()
    offered = set(TransitionForm(request_obj=obj).fields["response_template"].queryset)
    assert offered == {templates["shared"], templates["a"]}


def test_without_javascript_the_template_is_the_message(client, agent_a, make_request,
                                                          templates):
    obj = make_request()
    client.force_login(agent_a)
    response = client.post(detail_url(obj), {"action": "transition",
                                             "to_status": "acknowledged",
                                             "response_template": templates["a"].pk,
                                             "public_message": ""})
    assert response.status_code == 302
    event = obj.events.get(kind=RequestEvent.Kind.STATUS)
    assert event.public_message == "Une équipe est en route."
    # A message the agent wrote wins over the template.
    client.post(detail_url(obj), {"action": "reply", "response_template": templates["a"].pk,
                                  "public_message": "Mon texte"})
    client.post(detail_url(obj), {"action": "reply",
                                  "response_template": templates["shared"].pk})
    comments = list(obj.events.filter(kind=RequestEvent.Kind.COMMENT)
                    .values_list("public_message", flat=True))
    assert comments == ["Mon texte", "Bien reçu."]


def test_other_department_template_or_empty_reply_is_refused(client, agent_a, make_request,
                                                             templates):
    obj = make_request()
    client.force_login(agent_a)
    response = client.post(detail_url(obj), {"action": "reply",
                                             "response_template": templates["b"].pk})
    assert response.status_code == 400
    response = client.post(detail_url(obj), {"action": "reply", "public_message": " "})
    assert response.status_code == 400
    response = client.post(detail_url(obj), {"action": "reply", "response_template": "abc"})
    assert response.status_code == 400
    assert not obj.events.filter(kind=RequestEvent.Kind.COMMENT).exists()


def test_requester_language(make_request, citizen, templates):
    obj = make_request()
    assert services.response_template_text(templates["shared"], obj) == "Bien reçu."
    citizen.preferred_language = "en"
    citizen.save()
    obj.refresh_from_db()
    assert services.response_template_text(templates["shared"], obj) == "Received."
    # No English text: French.
    assert services.response_template_text(templates["a"], obj) == "Une équipe est en route."
    form = ReplyForm({"response_template": templates["shared"].pk}, request_obj=obj)
    assert form.is_valid() and form.cleaned_data["public_message"] == "Received."


def test_detail_page_carries_the_texts_for_the_script(client, agent_a, make_request, templates):
    obj = make_request()
    client.force_login(agent_a)
    body = client.get(detail_url(obj)).content.decode()
    assert 'id="requetes-template-texts"' in body and "requetes/response_templates.js" in body
    texts = set(client.get(detail_url(obj)).context["template_texts"].values())
    assert texts == {"Une équipe est en route.", "Bien reçu."}


# --- the snippet -------------------------------------------------------------------------

SNIPPETS = "/admin/snippets/requetes/responsetemplate/"


def test_agents_edit_their_departments_templates_only(client, agent_a, templates, departments):
    client.force_login(agent_a)
    body = client.get(SNIPPETS).content.decode()
    assert "Équipe" in body and "Collecte" not in body
    assert client.get(f"{SNIPPETS}edit/{templates['a'].pk}/").status_code == 200
    for other in ("b", "shared"):
        response = client.get(f"{SNIPPETS}edit/{templates[other].pk}/")
        assert response.status_code in (302, 403)
        response = client.post(f"{SNIPPETS}edit/{templates[other].pk}/", {
            "title": "Piraté", "body_fr": "x", "order": 1})
        templates[other].refresh_from_db()
        assert templates[other].title != "Piraté"
    # Creating one for another department, or a shared one, is refused.
    for department in (departments[1].pk, ""):
        client.post(f"{SNIPPETS}add/", {"title": "Nouveau", "department": department,
                                        "body_fr": "Texte", "active": "on", "order": 5})
    assert not ResponseTemplate.objects.filter(title="Nouveau").exists()
    response = client.post(f"{SNIPPETS}add/", {"title": "Nouveau", "department":
                                               departments[0].pk, "body_fr": "Texte",
                                               "active": "on", "order": 5})
    assert response.status_code == 302
    assert ResponseTemplate.objects.get(title="Nouveau").department == departments[0]


def test_administrators_edit_all_and_editors_none(client, administrator, editor, templates):
    client.force_login(administrator)
    body = client.get(SNIPPETS).content.decode()
    assert "Équipe" in body and "Collecte" in body and "Reçu" in body
    response = client.post(f"{SNIPPETS}add/", {"title": "Partagé", "department": "",
                                               "body_fr": "Texte", "active": "on",
                                               "order": 5})
    assert response.status_code == 302
    assert ResponseTemplate.objects.get(title="Partagé").department is None
    client.force_login(editor)
    assert client.get(SNIPPETS).status_code == 302
    assert client.get(f"{SNIPPETS}edit/{templates['a'].pk}/").status_code == 302


def test_demo_templates_are_idempotent(departments):
    requetes_demo.load_response_templates()
    requetes_demo.load_response_templates()
    assert ResponseTemplate.objects.count() == len(requetes_demo.RESPONSE_TEMPLATES)
    assert ResponseTemplate.objects.filter(department__isnull=True).count() >= 2
    assert all(t.body_en for t in ResponseTemplate.objects.all())
