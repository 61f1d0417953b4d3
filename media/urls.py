from django.urls import path

from . import views

urlpatterns = [
    path("media/<str:key>/<str:variant>", views.serve, name="media-file"),
]
