from django.urls import include, path
from django.views.generic import RedirectView

from .accounts import views as acc
from .accounts.api import router as users_api
from .api.api import api
from .continuity.api import router as continuity_api
from .dashboard.views import dashboard
from .incidents.api import router as incidents_api
from .inspections import views as insp
from .notification.api import router as notification_api
from .oversight.api import router as oversight_api
from .regulator.api import router as regulator_api
from .reporting.api import router as reports_api

api.add_router("/incidents", incidents_api)
api.add_router("/regulator", regulator_api)
api.add_router("/reports", reports_api)
api.add_router("/continuity", continuity_api)
api.add_router("/oversight", oversight_api)
api.add_router("/users", users_api)
api.add_router("/notification", notification_api)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False)),
    path("healthz", insp.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", acc.login_view, name="login"),
    path("accounts/logout/", acc.logout_view, name="logout"),
    path("accounts/password/", acc.password_change_view, name="password_change"),
    path("accounts/mfa/", acc.mfa_setup_view, name="mfa_setup"),
    path("accounts/tokens/", acc.tokens_view, name="tokens"),
    path("accounts/users/", acc.users_view, name="users"),
    path("audit/", acc.audit_view, name="audit"),
    path("dashboard/", dashboard, name="dashboard"),
    path("inspections/", insp.inspection_list, name="inspections"),
    path("inspections/plan/", insp.plan, name="plan"),
    path("inspections/create/", insp.create, name="inspection_create"),
    path("inspections/<int:pk>/", insp.detail, name="inspection"),
    path("inspections/<int:pk>/import/", insp.import_view, name="inspection_import"),
    path("inspections/<int:pk>/<str:action>/", insp.workflow, name="inspection_workflow"),
    path("inspections/<int:pk>/items/<int:item_pk>/", insp.item_update, name="item_update"),
    path("inspections/<int:pk>/items/<int:item_pk>/evidence/", insp.item_evidence, name="item_evidence"),
    path("inspections/<int:pk>/items/<int:item_pk>/finding/", insp.finding_new, name="finding_new"),
    path("inspections/<int:pk>/items/<int:item_pk>/finding/create/", insp.finding_create, name="finding_create"),
    path("evidence/<int:pk>/download/", insp.evidence_download, name="evidence_download"),
    path("findings/", insp.finding_list, name="findings"),
    path("findings/<int:pk>/", insp.finding_detail, name="finding"),
    path("findings/<int:pk>/<str:action>/", insp.finding_action, name="finding_action"),
    path("settings/deductions/", insp.deductions, name="deductions"),
    path("", include("ccinspect.web.incidents.urls")),
    path("", include("ccinspect.web.regulator.urls")),
    path("", include("ccinspect.web.reporting.urls")),
    path("", include("ccinspect.web.continuity.urls")),
    path("", include("ccinspect.web.oversight.urls")),
    path("", include("ccinspect.web.brokers.urls")),
    path("", include("ccinspect.web.notification.urls")),
    path("api/", api.urls),
]
