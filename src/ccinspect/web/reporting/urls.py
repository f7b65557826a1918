from django.urls import path

from . import views

urlpatterns = [
    path("reports/inspections/<int:pk>/<str:fmt>/", views.inspection_report, name="report_inspection"),
    path("reports/tracking.xlsx", views.tracking, name="report_tracking"),
    path("reports/statement/", views.statement, name="report_statement"),
]
