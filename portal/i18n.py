"""Which language a request is answered in: Japanese by default, English on request."""
from __future__ import annotations

from flask import g, has_app_context, has_request_context, request

SUPPORTED = ("ja", "en")
DEFAULT = "ja"


#: ``request.environ`` keys: the UI's stored choice (set before the views run) and the
#: language once decided. Kept on the request itself, not on ``g``, which an app context
#: shares among the requests made inside it (tests, scripts).
UI_LANGUAGE = "portal.ui_language"
_DECIDED = "portal.language"


def request_language() -> str:
    """``?lang=`` first, then the UI's stored choice (set by the web views, never by the
    API, which reads no session), then Accept-Language, else Japanese."""
    if not has_request_context():
        return DEFAULT
    environ = request.environ
    known = environ.get(_DECIDED)
    if known is not None:
        return known  # templates ask once per translated value: decide once per request
    lang = request.args.get("lang") if request.query_string else None
    if lang not in SUPPORTED:
        chosen = environ.get(UI_LANGUAGE)
        if chosen in SUPPORTED:
            lang = chosen
        else:
            asked = request.accept_languages.best_match(SUPPORTED) if "HTTP_ACCEPT_LANGUAGE" in environ else None
            lang = asked or DEFAULT
    # The UI's choice is known (set before the views run), or the request is the rules API's
    # (which has none): the answer will not change.
    if UI_LANGUAGE in environ or request.blueprint == "api":
        environ[_DECIDED] = lang
    return lang


def babel_locale():
    """Flask-Babel's locale selector: :func:`request_language` as a babel ``Locale``, one
    object per language for the process (Flask-Babel parses a string on every request)."""
    return _LOCALES[request_language()]


# --------------------------------------------------------------------------- translation domains
#
# The core's catalog is Flask-Babel's default domain. Each plugin package has its own
# domain (its ``translations/`` folder), so one plugin's "キャンセル" → "Cancellation" never
# changes the core's "Cancel" (or another plugin's). A template string is translated in
# the domain of the package whose file it is written in; plugin Python code asks for its
# package's domain with :func:`plugin_translator`.

import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from babel import Locale  # noqa: E402
from flask_babel import Domain, get_translations  # noqa: E402

_LOCALES = {lang: Locale.parse(lang) for lang in SUPPORTED}

_DOMAINS: dict[Path, Domain] = {}

#: Tests set a list here to record ``(template file, msgid, text)`` of every template gettext.
TRACE: list[tuple[str, str, str]] | None = None


def plugin_domain(folder: Path) -> Domain:
    """The Flask-Babel domain of the plugin package in ``folder`` (``translations/`` there)."""
    folder = Path(folder).resolve()
    domain = _DOMAINS.get(folder)
    if domain is None:
        domain = _DOMAINS[folder] = Domain(translation_directories=[str(folder / "translations")])
    return domain


def _catalog(domain: Domain | None):
    """``domain.get_translations()`` (the core's domain for None), remembered on the
    request's Flask-Babel state for as long as its locale object stays the same
    (``force_locale`` swaps it): a page asks once per translated string, and Flask-Babel's
    own lookup re-derives the locale's name every time."""
    if not has_app_context():
        return domain.get_translations() if domain is not None else get_translations()
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    if locale is None:  # not decided yet in this context: Flask-Babel decides (and keeps it)
        found = domain.get_translations() if domain is not None else get_translations()
        state = g.get("_flask_babel")
        locale = getattr(state, "babel_locale", None)
        if locale is not None:
            state.portal_catalogs = (locale, {domain: found})
        return found
    memo = getattr(state, "portal_catalogs", None)
    if memo is None or memo[0] is not locale:
        memo = state.portal_catalogs = (locale, {})
    catalogs = memo[1]
    found = catalogs.get(domain)
    if found is None:
        found = catalogs[domain] = domain.get_translations() if domain is not None else get_translations()
    return found


class Translator:
    """gettext functions bound to one plugin's domain, falling back to the core's catalog
    for a string the plugin does not translate itself."""

    def __init__(self, domain: Domain | None):
        self.domain = domain

    def gettext(self, string: str, **variables) -> str:
        text = _catalog(self.domain).ugettext(string) if self.domain is not None else string
        if text == string:
            text = _catalog(None).ugettext(string)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = _catalog(self.domain).ungettext(singular, plural, num)
        if text in (singular, plural):
            text = _catalog(None).ungettext(singular, plural, num)
        return text % variables

    def lazy_gettext(self, string: str, **variables):
        from flask_babel import LazyString
        return LazyString(self.gettext, string, **variables)


def plugin_translator(package: str | Path) -> Translator:
    """The translator of a plugin package, by module name (``__name__``) or folder."""
    if isinstance(package, str):
        module = sys.modules[package]
        folder = Path(module.__file__).parent
        while not (folder / "translations").is_dir() and folder.parent != folder and (folder.parent / "__init__.py").exists():
            folder = folder.parent
    else:
        folder = Path(package)
    return Translator(plugin_domain(folder) if (folder / "translations").is_dir() else None)


class TemplateTranslations:
    """Jinja's gettext callables: the domain is chosen by the template file the string is
    written in (found from the calling frame: Jinja's compiled template module keeps its
    file name), so a core template included by a plugin's page, or a plugin's partial
    included by a core page, each translate in their own domain.

    The callables are Jinja's "newstyle" gettext (autoescaped, always ``%``-formatted with
    their keyword variables) installed as the template globals ``_``, ``gettext`` and
    ``ngettext`` themselves: Jinja's own ``_`` is an alias that looks ``gettext`` up and
    calls it through two more wrappers, which cost ten times the translation."""

    def __init__(self, plugin_folders: list[Path]):
        self.roots = [(str(Path(f).resolve() / "templates") + os.sep, plugin_translator(Path(f)))
                      for f in plugin_folders if (Path(f) / "templates").is_dir()]
        self.core = Translator(None)
        self._by_file: dict[str, Translator] = {}

    def _translator(self) -> tuple[str, Translator]:
        frame = sys._getframe(2)  # the callable a template called (through Context.call), then up
        while frame is not None:
            g = frame.f_globals
            if "environment" in g and "blocks" in g and "__file__" in g:
                filename = g["__file__"]
                translator = self._by_file.get(filename)
                if translator is None:
                    resolved = os.path.realpath(filename)
                    translator = next((t for root, t in self.roots if resolved.startswith(root)), self.core)
                    self._by_file[filename] = translator
                return filename, translator
            frame = frame.f_back
        return "", self.core

    def gettext(self, string: str) -> str:
        filename, translator = self._translator()
        text = translator.gettext(string)
        if TRACE is not None:
            TRACE.append((filename, string, text))
        return text

    def ngettext(self, singular: str, plural: str, num: int) -> str:
        return self._translator()[1].ngettext(singular, plural, num)

    def install(self, jinja_env) -> None:
        from jinja2 import pass_context
        from markupsafe import Markup

        jinja_env.install_gettext_callables(gettext=self.gettext, ngettext=self.ngettext, newstyle=True)
        translations = self

        @pass_context
        def gettext(context, string: str, **variables) -> str:
            text = translations.gettext(string)
            if context.eval_ctx.autoescape:
                text = Markup(text)
            # Always a format string ("%%" is "%"), as Jinja's newstyle gettext.
            return text % variables if variables or "%" in text else text

        @pass_context
        def ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
            variables.setdefault("num", num)
            text = translations.ngettext(singular, plural, num)
            return (Markup(text) if context.eval_ctx.autoescape else text) % variables

        jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
