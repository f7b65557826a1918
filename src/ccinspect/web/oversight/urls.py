from django.urls import path

from . import views

urlpatterns = [
    path("oversight/", views.engagement_list, name="oversight"),
    path("oversight/plan/", views.plan, name="oversight_plan"),
    path("oversight/new/", views.new, name="oversight_new"),
    path("oversight/deductions/", views.deductions, name="oversight_deductions"),
    path("oversight/thematic/", views.thematic_list, name="oversight_thematics"),
    path("oversight/thematic/<int:pk>/", views.thematic, name="oversight_thematic"),
    path("oversight/requests/<int:pk>/answer/", views.answer, name="oversight_answer"),
    path("oversight/<int:pk>/", views.engagement, name="oversight_engagement"),
    path("oversight/<int:pk>/report/<str:fmt>/", views.engagement_report, name="oversight_report"),
    path("oversight/<int:pk>/<str:action>/", views.engagement_action, name="oversight_action"),
]
