"""The JSTC group's lists as CSV / .xlsx through the core's export (``portal.sdk.exports``):
a group's examinees and its results (one query each, whatever the number of rows)."""
from __future__ import annotations

from portal.sdk import db, exports, plugin_translator

from plugins.jstc_group import services
from plugins.jstc_group.grades import GRADES
from plugins.jstc_group.rules import MARK_LABELS
from plugins.jstc_group.views import _load, bp


_l = plugin_translator(__name__).lazy_gettext  # this plugin's own catalog (translations/)


def _grade(code: str):
    return GRADES[code].name if code in GRADES else code


EXAMINEE_COLUMNS = (
    exports.Column("No.", lambda e: e.line),
    exports.Column(_l("姓"), lambda e: e.family_name),
    exports.Column(_l("名"), lambda e: e.given_name),
    exports.Column(_l("セイ"), lambda e: e.family_kana),
    exports.Column(_l("メイ"), lambda e: e.given_kana),
    exports.Column(_l("受験級"), lambda e: _grade(e.grade)),
    exports.Column(_l("JIS第1・第2水準外の文字"), lambda e: e.jis_flag),
)
RESULT_COLUMNS = (
    exports.Column("No.", lambda e: e.line),
    exports.Column(_l("氏名"), lambda e: e.display_name),
    exports.Column(_l("受験級"), lambda e: _grade(e.grade)),
    exports.Column(_l("得点(200点満点)"), lambda e: e.score),
    exports.Column(_l("得点50%未満の問題あり"), lambda e: e.question_below_half),
    exports.Column(_l("判定"), lambda e: MARK_LABELS.get(e.mark, e.mark) if e.mark else ""),
)


@bp.get("/examinees/<int:application_id>/export.<fmt>")
def export_examinees(application_id: int, fmt: str):
    application, session = _load(application_id)
    rows = services.examinees(db.session(), application)
    return exports.export_response(f"jstc-examinees-{session.exam_date.isoformat()}", fmt, EXAMINEE_COLUMNS, rows)


@bp.get("/results/<int:application_id>/export.<fmt>")
def export_results(application_id: int, fmt: str):
    application, session = _load(application_id)
    rows = services.examinees(db.session(), application)
    return exports.export_response(f"jstc-results-{session.exam_date.isoformat()}", fmt, RESULT_COLUMNS, rows)
