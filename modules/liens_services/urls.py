from django.urls import path

from . import views

app_name = "liens_services"

urlpatterns = [
    path("", views.index, name="index"),
]
