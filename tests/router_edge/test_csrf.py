import pytest
from starlette.datastructures import Headers

from router.guard.csrf import check_csrf


@pytest.mark.parametrize(
    ("method", "headers", "allowed"),
    [
        ("POST", {"content-type": "application/json"}, True),
        ("POST", {"content-type": "application/json; charset=utf-8"}, True),
        ("POST", {"content-type": "application/graphql-response+json"}, True),
        ("POST", {"content-type": "text/plain"}, False),
        ("POST", {"content-type": "Text/Plain; charset=utf-8"}, False),
        ("POST", {"content-type": "application/x-www-form-urlencoded"}, False),
        ("POST", {"content-type": "multipart/form-data; boundary=x"}, False),
        ("POST", {"content-type": "text/plain", "apollo-require-preflight": "true"}, True),
        ("POST", {"content-type": "multipart/form-data", "graphql-preflight": "1"}, True),
        ("POST", {}, False),
        ("POST", {"content-type": "not a mime type"}, True),  # browsers would preflight it
        ("GET", {}, False),
        ("GET", {"accept": "text/html"}, False),
        ("GET", {"x-apollo-operation-name": "Me"}, True),
        ("GET", {"apollo-require-preflight": ""}, True),
        ("GET", {"graphql-preflight": "1"}, True),
        ("GET", {"X-Apollo-Operation-Name": "Me"}, True),  # plain dict, client's casing
    ],
)
def test_csrf_matrix(method, headers, allowed):
    assert (check_csrf(method, headers) is None) is allowed


def test_starlette_headers_and_custom_required_headers():
    assert check_csrf("GET", Headers({"X-Requested-With": "x"}), ("x-requested-with",)) is None
    assert check_csrf("GET", Headers({"apollo-require-preflight": "1"}), ("x-requested-with",)) == (
        "This GET request has been blocked as a potential Cross-Site Request Forgery (CSRF). "
        "Send a Content-Type other than text/plain, application/x-www-form-urlencoded or "
        "multipart/form-data (such as application/json), or one of these headers: "
        "x-requested-with."
    )
