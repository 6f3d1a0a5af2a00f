from django.urls import path

from . import views

app_name = "requetes"

urlpatterns = [
    path("", views.index, name="index"),
]
