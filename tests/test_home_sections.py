"""The home page's sections (issue 13): modules contribute them through
``hub_home_sections``; the hub renders each under its own heading."""

from hub.plugins import manager


def test_hook_hub_home_sections(client, site, rf):
    """Every section a module returns is on the home page, titled, in order; a disabled
    module's section is not."""
    from django.test import override_settings

    sections = manager.collect_sorted("hub_home_sections", request=rf.get("/fr/"))
    content = client.get("/fr/").content.decode()
    assert [section["slug"] for section in sections] == ["news"]  # no alert in force
    for section in sections:
        assert f'id="home-{section["slug"]}"' in content
        assert str(section["title"]) in content
    with override_settings(HUB_DISABLED_MODULES=["actualites"]):
        assert 'id="home-news"' not in client.get("/fr/").content.decode()
