"""Recompute after a closure edit: every stored deadline of the organisation moves.

Each round first runs the floor — one UPDATE over the same rows, setting the same columns
(at, rule, explanations) to one value — which leaves every stored deadline wrong; then
``portal.bookings.recompute_deadlines`` (plan + set-based apply in one transaction) puts
every one of them right again, so both move all the rows every round.
Run: ``python bench/recompute_bench.py``.
"""
from __future__ import annotations

import statistics
import time

from sqlalchemy import bindparam, text

from _common import ROUNDS, SIZES, Measure, backends, fresh_database, make_app, row, seed


def bench(backend: str, seeded) -> None:
    from portal import db
    from portal.db import AwareDateTime
    from portal.bookings import recompute_deadlines
    app, org_id = seeded.app, seeded.org_id
    # The moment is bound through the column's type, so that it is stored as the portal stores
    # it (on SQLite a raw naive datetime would be text the recompute's guard never matches).
    floor_sql = text("UPDATE booking_deadline SET at = :at, rule = :rule, explanation_ja = :ja, explanation_en = :en "
                     "WHERE organization_id = :org").bindparams(bindparam("at", type_=AwareDateTime()))
    params = {"at": seeded.now, "rule": "FLOOR", "ja": "床", "en": "floor", "org": org_id}
    floors, subjects, moved = [], [], []
    for _ in range(max(3, ROUNDS // 2)):
        with app.app_context():
            with db.transaction() as s:
                start = time.perf_counter()
                s.execute(floor_sql, params)
            floors.append(time.perf_counter() - start)
        with app.app_context():
            start = time.perf_counter()
            with db.transaction() as s:
                moved.append(recompute_deadlines(s, org_id, "prometric"))
            subjects.append(time.perf_counter() - start)
    m = Measure(statistics.median(floors), statistics.median(subjects), subjects)
    row(backend, "recompute stored deadlines after a closure edit", f"{seeded.deadlines:,} deadlines",
        "one UPDATE, same rows", m, f"{m.ratio:.2f}×", "≤ 3× at 100k",
        m.ratio <= 3 if seeded.bookings == 100_000 else None, f"moved {statistics.median(moved):,.0f} per round")


def main() -> None:
    for backend in backends():
        for n in SIZES:
            url = fresh_database(backend, f"rec{n}")
            app = make_app(url)
            seeded = seed(app, url, n)
            bench(backend, seeded)
            app.extensions["exam_portal.engine"].dispose()


if __name__ == "__main__":
    main()
