"""Response headers (Content-Security-Policy via django-csp, Permissions-Policy, CORP) and rate limits
(django-ratelimit) on sign-in, the API token page and failed API authentication. See docs/web.md,
"Deployment"."""
