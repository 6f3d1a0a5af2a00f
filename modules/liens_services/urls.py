from django.urls import path

from . import views

app_name = "liens_services"

urlpatterns = [
    path("", views.index, name="index"),
    path("favoris/<int:link_id>/ajouter/", views.add_favourite, name="add_favourite"),
    path("favoris/<int:link_id>/retirer/", views.remove_favourite, name="remove_favourite"),
]
