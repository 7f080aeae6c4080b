"""portal.urls.id_url: one url_for for a list's many rows, the same URLs as url_for each."""
from flask import Flask, url_for

from portal.urls import id_url


def _app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/bookings/<int:booking_id>", "detail", lambda booking_id: "")
    app.add_url_rule("/days/<int:day_id>/edit", "edit", lambda day_id: "")
    app.add_url_rule("/groups/<int:group_id>/members/<int:member_id>", "member", lambda group_id, member_id: "")
    return app


def test_each_id_gets_the_url_url_for_builds():
    app = _app()
    with app.test_request_context(base_url="http://example.jp/app"):
        for endpoint, param in (("detail", "booking_id"), ("edit", "day_id")):
            build = id_url(endpoint, param)
            for i in (0, 1, 7, 42, 987654321, 10**12):
                assert build(i) == url_for(endpoint, **{param: i})
        assert id_url("edit", "day_id", lang="en")(5) == url_for("edit", day_id=5, lang="en")  # extra query values kept


def test_a_rule_that_does_not_print_the_id_verbatim_falls_back_to_url_for(monkeypatch):
    app = _app()
    with app.test_request_context():
        import portal.urls as urls
        monkeypatch.setattr(urls, "_MARKER", 55)
        build = id_url("member", "member_id", group_id=55)  # the marker twice in the URL: splicing would be ambiguous
        assert build(3) == url_for("member", group_id=55, member_id=3) == "/groups/55/members/3"
