from django.contrib import admin
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, include, path, re_path, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


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
    path("admin/", admin.site.urls),
    path("api/", include("accounts.api_urls")),
    path("api/", include("microblog.api_urls")),
    path("api/", include("chat.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file, so the CSP needs no inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Last: any other /api/ path answers JSON, as API clients expect, not Django's HTML page.
    re_path(r"^api/", api_not_found),
]
