"""Request checks that no view should have to repeat."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


class RejectNulInQueryMiddleware:
    """A 400 for a query string holding a NUL character. It is never meaningful, and PostgreSQL
    refuses it in a text comparison: the admin's search and list filters passed it straight to a
    query and answered 500 (found by the web fuzz). Forms already refuse it in posted fields."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest("NUL characters are not allowed in a query string.\n")
        return self.get_response(request)
