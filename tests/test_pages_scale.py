"""Lists at scale: the dashboard and the bookings list paginate, and the statements a page
runs do not grow with the number of rows (no N+1) (issue 10)."""
import re
from datetime import datetime

import pytest
import time_machine

from helpers import count_statements, make_booking, make_candidate, make_session
from portal.rules import JST
from portal.web.pager import window


NOW = datetime(2026, 11, 24, 9, 0, tzinfo=JST)
EXAM = datetime(2026, 12, 9, 10, 0, tzinfo=JST)
HX = {"HX-Request": "true"}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _bookings(app, org_id, n, start=EXAM):
    session_id = make_session(app, org_id, start=start, capacity=1000)
    for i in range(n):
        make_booking(app, org_id, session_id, make_candidate(app, org_id, given=f"太郎{i}"))


def _items(html):
    return re.findall(r'<li data-provider="sample" data-kind="([a-z_]+)">', html)


def test_dashboard_pages_through_every_deadline_with_the_url_pushed(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    _bookings(app, org_id, 30)
    seen, page, links = [], 1, []
    while True:
        html = client.get(f"/dashboard?days=20&page={page}", headers=HX).get_data(as_text=True)
        seen.extend(_items(html))
        following = re.search(r'<a href="([^"]+)" hx-get="\1" hx-target="#due" hx-push-url="true" rel="next">', html)
        if not following:
            break
        links.append(following.group(1).replace("&amp;", "&"))
        assert "page=%d" % (page + 1) in links[-1] and "days=20" in links[-1]
        page += 1
    assert len(links) >= 1 and all(len(_items(client.get(u, headers=HX).get_data(as_text=True))) <= 50 for u in links)
    kinds_per_booking = len(seen) // 30
    assert kinds_per_booking >= 1 and len(seen) == 30 * kinds_per_booking  # every deadline once, none twice
    full = client.get("/dashboard?days=20&page=2").get_data(as_text=True)
    assert "<html" in full and 'rel="prev"' in full  # a pushed URL opened directly renders the whole page


def test_dashboard_statements_do_not_grow_with_bookings(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    counts = []
    for n in (3, 40):
        _bookings(app, org_id, n)
        client.get("/dashboard?days=20", headers=HX)
        with count_statements(app) as counter:
            assert client.get("/dashboard?days=20", headers=HX).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_bookings_list_statements_do_not_grow_and_the_pager_is_a_window(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    counts = []
    for n in (5, 60):
        _bookings(app, org_id, n)
        client.get("/providers/sample/bookings", headers=HX)
        with count_statements(app) as counter:
            client.get("/providers/sample/bookings", headers=HX)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    _bookings(app, org_id, 200)
    html = client.get("/providers/sample/bookings?page=5", headers=HX).get_data(as_text=True)
    pages = re.findall(r'hx-target="#booking-table" hx-push-url="true" (?:aria-current="page")?>(\d+)</a>', html)
    assert pages == ["1", "3", "4", "5", "6", "7", "11"] and html.count("…") == 2  # 265 bookings, 25 a page


def test_pager_window():
    assert window(1, 1) == [1]
    assert window(1, 4) == [1, 2, 3, 4]
    assert window(50, 4000) == [1, None, 48, 49, 50, 51, 52, None, 4000]
    assert window(4000, 4000) == [1, None, 3998, 3999, 4000]
    assert window(4, 9) == [1, 2, 3, 4, 5, 6, None, 9]
