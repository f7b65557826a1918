from django.urls import path

from . import views

urlpatterns = [
    path("brokers/", views.broker_list, name="brokers"),
    path("brokers/new/", views.broker_edit, name="broker_new"),
    path("brokers/<int:pk>/", views.broker_edit, name="broker_edit"),
    path("brokers/<int:pk>/retire/", views.broker_retire, name="broker_retire"),
]
