"""Helpers for the API tests: the test client as one user speaking JSON, and 422 fields."""


def error_fields(response) -> list[str]:
    """Field names of a 422: ours ({"errors": {field: …}}) or ninja's schema errors."""
    body = response.json()
    if "errors" in body:
        return sorted(body["errors"])
    return sorted({str(e["loc"][-1]) for e in body["detail"]})


class Api:
    """The test client acting as one user (session login), speaking JSON."""

    def __init__(self, client, user):
        self.client, self.user = client, user

    def _login(self) -> None:
        if getattr(self.client, "acting_as", None) is not self.user:
            self.client.force_login(self.user)
            self.client.acting_as = self.user

    def get(self, url, **params):
        self._login()
        return self.client.get(url, params)

    def post(self, url, data=None):
        self._login()
        body = data if data is not None else {}
        return self.client.post(url, body, content_type="application/json")
