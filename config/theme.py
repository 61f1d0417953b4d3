"""The colour theme a person picked: Light, Dark, or System (follow the device).

Kept in a cookie, not on the account: the login and sign-up pages and every signed-out page show
it too, and the server writes it into <html data-theme> in the page's first bytes, so the page is
painted in the right theme at once, with no script running before first paint (the CSP allows
none inline). A person on two devices may well want two themes.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

COOKIE = "theme"
CHOICES = ("light", "dark", "system")
MAX_AGE = 60 * 60 * 24 * 365 * 2


def chosen_theme(request: HttpRequest) -> str:
    """The theme to serve: "light", "dark", or "" to follow the device (no cookie, "system", or junk)."""
    value = request.COOKIES.get(COOKIE, "")
    return value if value in ("light", "dark") else ""


def theme(request: HttpRequest) -> dict:
    """Context processor: `theme` for base.html's <html data-theme>, "" to follow prefers-color-scheme."""
    return {"theme": chosen_theme(request), "theme_choices": CHOICES}


@require_POST
def theme_set(request: HttpRequest) -> HttpResponse:
    """The settings page's theme form, which works without JavaScript (theme.js posts it in place)."""
    value = request.POST.get("theme", "")
    if value not in CHOICES:
        return HttpResponse("Pick light, dark or system.", status=400, content_type="text/plain; charset=utf-8")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=False):
        next_url = "/settings/"
    response = HttpResponseRedirect(next_url)
    if value == "system":
        response.delete_cookie(COOKIE, samesite="Lax")
    else:
        # Read by no script (theme.js sets <html data-theme> itself), so HttpOnly.
        response.set_cookie(COOKIE, value, max_age=MAX_AGE, samesite="Lax", httponly=True)
    return response
