from .models import Role

# URL prefix -> header link to mark as the current page (longest prefix first)
SECTIONS = [
    ("/inspections/plan/", "plan"), ("/inspections/", "inspections"), ("/dashboard/", "dashboard"),
    ("/findings/", "findings"), ("/audit/", "audit"), ("/accounts/users/", "users"),
    ("/settings/deductions/", "deductions"), ("/accounts/tokens/", "tokens"), ("/accounts/mfa/", "mfa"),
    ("/accounts/password/", "password"), ("/incidents/", "incidents"), ("/reports/", "reports"),
    ("/regulator/", "regulator"), ("/notification/", "notification"),
]


def roles(request):
    path = getattr(request, "path", "")
    active = next((name for prefix, name in SECTIONS if path.startswith(prefix)), "")
    return {"Role": Role, "nav_active": active}
