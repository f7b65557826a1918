from django.urls import path

from . import views

urlpatterns = [
    path("continuity/", views.dashboard, name="continuity"),
    path("continuity/amendment/", views.amendment_view, name="continuity_amendment"),
    path("continuity/import/", views.import_view, name="continuity_import"),
    path("continuity/export.xlsx", views.export, name="continuity_export"),
    path("continuity/template.xlsx", views.template, name="continuity_template"),
    path("continuity/finding/", views.raise_finding, name="continuity_finding"),
    path("continuity/<str:kind>/", views.records, name="continuity_records"),
    path("continuity/<str:kind>/<int:pk>/", views.record, name="continuity_record"),
    path("continuity/<str:kind>/<int:pk>/delete/", views.record_delete, name="continuity_record_delete"),
]
