from django.urls import path

from . import open_data, views

app_name = "requetes"

REF = "<str:reference>"

urlpatterns = [
    path("", views.index, name="index"),
    path("nouvelle/", views.choose_category, name="choose_category"),
    path("nouvelle/<slug:code>/", views.report, name="report"),
    path("mes-requetes/", views.my_requests, name="mine"),
    path("carte/", views.public_map, name="public_map"),
    path("donnees-ouvertes.csv", open_data.export_csv, name="open_data_csv"),
    path("donnees-ouvertes.geojson", open_data.export_geojson, name="open_data_geojson"),
    path("photo/<int:pk>/", views.photo, name="photo"),
    path("photo/<int:pk>/miniature/", views.photo, {"size": "thumb"}, name="thumbnail"),
    path(f"{REF}/", views.detail, name="detail"),
    path(f"{REF}/confirmation/", views.confirmation, name="confirmation"),
    path(f"{REF}/commenter/", views.comment, name="comment"),
    path(f"{REF}/rouvrir/", views.reopen, name="reopen"),
    path(f"{REF}/moi-aussi/", views.follow, name="follow"),
    path(f"{REF}/satisfaction/", views.satisfaction, name="satisfaction"),
]
