from django.urls import path

from . import views

app_name = "alertes"

urlpatterns = [
    path("", views.index, name="index"),
]
