from django.urls import path

from . import views

urlpatterns = [
    path("notification/", views.overview, name="notification"),
    path("notification/<int:pk>/", views.notification_detail, name="notification_detail"),
    path("notification/cases/", views.case_list, name="notification_cases"),
    path("notification/cases/<int:pk>/", views.case_detail, name="notification_case"),
    path("notification/cases/<int:pk>/<str:action>/", views.case_action, name="notification_case_action"),
    path("notification/settings/", views.gateway_settings, name="notification_settings"),
    path("notification/templates/", views.templates, name="notification_templates"),
    path("notification/point16/<int:insp_pk>/", views.point16, name="notification_point16"),
]
