from django.urls import path

from . import views

urlpatterns = [
    path("regulator/", views.risk_map, name="regulator"),
    path("regulator/now/", views.risk_now, name="regulator_now"),
    path("regulator/trends/", views.risk_trends, name="regulator_trends"),
    path("regulator/brokers/<int:pk>/", views.broker, name="regulator_broker"),
]
