from django.urls import path

from . import feeds

app_name = "actualites"

# The news list itself is the NewsIndexPage at /fr/actualites/ (Wagtail serves it).
urlpatterns = [
    path("flux.rss", feeds.NewsRssFeed(), name="feed_rss"),
    path("flux.atom", feeds.NewsAtomFeed(), name="feed_atom"),
]
