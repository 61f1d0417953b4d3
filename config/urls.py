"""The project's URLs, and its error answers: JSON under /api/, Tandem's own pages elsewhere.

Whichever answers, the security headers are the middleware's (config.middleware), the same on
every response.
"""

from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, include, path, re_path, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.theme import theme_set


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)


handler400 = bad_request
handler403 = permission_denied
handler404 = page_not_found
handler500 = server_error


@csrf_exempt  # nothing here to protect: it only ever answers 404 or points elsewhere
def api_not_found(request, *args, **kwargs) -> HttpResponse:
    """Any other /api/ path: JSON 404, as API clients expect, not Django's HTML page.

    Matching every /api/ path, this view would keep APPEND_SLASH from ever redirecting, so it
    does that itself for a path that exists with a slash: 308, which keeps the method and body.
    """
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            redirect = HttpResponse(status=308)
            redirect["Location"] = request.get_full_path(force_append_slash=True)
            return redirect
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("", include("microblog.urls")),
    path("", include("accounts.urls")),
    path("", include("chat.urls")),
    path("", include("media.urls")),
    path("", include("articles.urls")),
    path("settings/theme/", theme_set, name="theme"),
    path("admin/", admin.site.urls),
    path("api/", include("accounts.api_urls")),
    path("api/", include("microblog.api_urls")),
    path("api/", include("search.api_urls")),
    path("api/", include("chat.api_urls")),
    path("api/", include("media.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file, so the CSP needs no inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Last: any other /api/ path answers JSON, as API clients expect, not Django's HTML page.
    re_path(r"^api/", api_not_found),
]
