"""What-if preview of a rules edit (issue 14) against the recompute's floor: one UPDATE over
the same rows (as bench/recompute_bench.py).

Each round runs the floor — one UPDATE setting every stored deadline of the organisation to
one wrong value — so that a preview's plan then holds every one of them (the worst case: an
edit moving all). Then the preview of a closure edit (``portal.whatif.preview``: read-only
transaction, plan + the listed page described), and for comparison the save of the same edit
(plan + guarded apply + moves logged, rolled back afterwards so every round starts alike).
Sizes: ``BENCH_SIZES`` stored deadlines (bookings of two deadlines each).
Run: ``python bench/whatif_bench.py``. Nothing here asserts a time.
"""
from __future__ import annotations

import statistics
import time
from datetime import timedelta

from sqlalchemy import bindparam, text

from _common import ROUNDS, SIZES, Measure, backends, fresh_database, make_app, row, seed


class _RolledBack(Exception):
    pass


def bench(backend: str, seeded) -> None:
    from portal import db, whatif
    from portal.db import AwareDateTime
    from portal.models import ClosureDay
    from portal.rules import ClosureRule, Msg
    app, org_id = seeded.app, seeded.org_id
    # recompute_bench's floor, its moment bound through the column's type so that it is stored
    # as the portal stores moments (the save's writes are guarded on the stored old value)
    floor_sql = text("UPDATE booking_deadline SET at = :at, rule = :rule, explanation_ja = :ja, explanation_en = :en "
                     "WHERE organization_id = :org").bindparams(bindparam("at", type_=AwareDateTime()))
    params = {"at": seeded.now, "rule": "FLOOR", "ja": "床", "en": "floor", "org": org_id}
    day = (seeded.now + timedelta(days=400)).date()  # a closure past every exam: the plan is what the floor broke
    closure = ClosureRule(day, day, Msg("システム保守", "maintenance"))

    def save():
        try:
            with db.transaction() as s:
                with whatif.recomputing(s, org_id, "prometric") as done:
                    s.add(ClosureDay(organization_id=org_id, provider="prometric", start_date=day, end_date=day,
                                     label_ja="システム保守", label_en="maintenance"))
                raise _RolledBack(done.moved)
        except _RolledBack as rolled_back:
            return rolled_back.args[0]

    floors, previews, saves, moved = [], [], [], []
    for _ in range(max(3, ROUNDS // 2)):
        with app.app_context():
            with db.transaction() as s:
                start = time.perf_counter()
                s.execute(floor_sql, params)
            floors.append(time.perf_counter() - start)
        with app.test_request_context("/"):
            start = time.perf_counter()
            preview = whatif.preview(org_id, "prometric", whatif.RulesEdit(add_closures=(closure,)))
            previews.append(time.perf_counter() - start)
            moved.append(preview.moved)
        with app.test_request_context("/"):
            start = time.perf_counter()
            saved = save()
            saves.append(time.perf_counter() - start)
            assert saved == preview.moved, (saved, preview.moved)  # the save writes what the preview showed
    floor = statistics.median(floors)
    p = Measure(floor, statistics.median(previews), previews)
    w = Measure(floor, statistics.median(saves), saves)
    size = f"{seeded.deadlines:,} deadlines"
    row(backend, "what-if preview of a closure edit (read-only plan)", size, "one UPDATE, same rows", p,
        f"{p.ratio:.2f}×", "≤ the save", p.ratio <= w.ratio, f"moves {statistics.median(moved):,.0f} listed 200")
    row(backend, "  the save of the same edit (plan + apply + moves kept)", size, "one UPDATE, same rows", w,
        f"{w.ratio:.2f}×", "—", None)


def main() -> None:
    for backend in backends():
        for n in SIZES:
            url = fresh_database(backend, f"whatif{n}")
            app = make_app(url)
            seeded = seed(app, url, max(1, n // 2))  # two stored deadlines per booking: n deadlines
            bench(backend, seeded)
            app.extensions["exam_portal.engine"].dispose()


if __name__ == "__main__":
    main()
