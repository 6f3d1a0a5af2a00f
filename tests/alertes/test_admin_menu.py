"""The alertes admin's menu items (``admin.viewsets``): each shown only to those who
may open its screens, and each leading to them."""

from django.contrib.auth.models import Permission

from tests.conftest import make_user

SENDING, SUBSCRIBERS = "/admin/alertes/envois/", "/admin/alertes/abonnes/"


def sidebar(client, user) -> str:
    """The dashboard as ``user`` sees it (the sidebar's menu is in the page)."""
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_officers_see_both_screens_in_the_menu(client, officer):
    page = sidebar(client, officer)
    assert SENDING in page and SUBSCRIBERS in page


def test_each_menu_item_follows_its_own_permission(db, client):
    staff = make_user("lecture@example.com", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="access_admin"))
    page = sidebar(client, staff)
    assert SENDING not in page and SUBSCRIBERS not in page
    staff.user_permissions.add(Permission.objects.get(codename="view_subscriber",
                                                      content_type__app_label="alertes"))
    page = sidebar(client, staff)
    assert SUBSCRIBERS in page and SENDING not in page
    assert client.get(SUBSCRIBERS).status_code == 200
    response = client.get(SENDING)
    assert response.status_code == 302 and response["Location"] == "/admin/"
