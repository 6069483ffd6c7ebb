"""The CLI's one error handler (错误处理): a failure is one or two lines on stderr and its class's exit code.

Every expected failure (the platform's own ``EdpError`` family, settings refused when read,
an unreachable warehouse or service, refused credentials, bad arguments, a file the operator
named that is missing) is shown as::

    error: <what failed, where>
    hint: <what to do>            (only when the first line does not say it)

and exits with the code of its class (:data:`EXIT_CODES`, docs/operations.md "Exit codes").
Anything else is a bug: its traceback is kept (never its local variables) and it exits 70.
``edp --debug …`` or ``EDP_DEBUG=1`` prints the traceback of any failure. Whatever is printed
passes :func:`redact` first: a URL's password and every known secret value are masked.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from edp.errors import ConfigError, EdpError, ServiceUnavailable, SourceUnavailable

#: Exit codes by class: the table of docs/operations.md, "Exit codes 退出码", and of `edp --help`.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = ConfigError.exit_code  # 2, also Click's code for bad arguments
EXIT_SOURCE_UNAVAILABLE = SourceUnavailable.exit_code  # 3
EXIT_SERVICE_UNAVAILABLE = ServiceUnavailable.exit_code  # 9
EXIT_BUG = 70  # sysexits' EX_SOFTWARE
EXIT_INTERRUPTED = 130

#: (code, short name, what it means): docs/operations.md "Exit codes 退出码" and the epilog of `edp --help`.
EXIT_CODES: tuple[tuple[int, str, str], ...] = (
    (0, "done 完成", "the command did what it was asked"),
    (1, "failed 失败", "the command's own finding (a check failed, a difference, a blocked sync) or another error"),
    (2, "configuration 配置", "a setting, sources.yml, an option or argument, a file named that is missing"),
    (3, "source unavailable 数据源不可用", "a source did not answer usefully within its retries"),
    (4, "data rejected 数据被拒收", "a file, page, record or a source's answer (HTTP 404) broke its contract"),
    (5, "quality blocked 质量阻断", "a quality gate holds data back"),
    (6, "exchange failed 数据交换失败", "the exchange with the 鞍山市 platform failed"),
    (7, "tool failed 工具失败", "dbt, Airflow or Superset failed; its log says why"),
    (8, "service not started 服务启动失败", "a service of `edp up` could not start"),
    (9, "service unreachable 服务不可达", "the warehouse, Celery's broker or another service did not answer"),
    (70, "bug 程序缺陷", "an unexpected error: the traceback is printed; report it"),
    (130, "interrupted 已中断", "Ctrl-C"),
)

_debug = False


def set_debug(on: bool) -> None:
    """``edp --debug``: print the traceback of a failure (the app callback calls this)."""
    global _debug
    _debug = _debug or on


def debug_enabled() -> bool:
    from edp.settings import debug_requested

    return _debug or debug_requested()


@dataclass(frozen=True)
class Failure:
    """What the operator sees: a line, perhaps a hint, and the exit code."""

    message: str
    exit_code: int
    hint: str = ""

    def lines(self) -> list[str]:
        first = f"error: {one_line(self.message)}"
        return [first, f"hint: {one_line(self.hint)}"] if self.hint else [first]


# -- masking ---------------------------------------------------------------------------------------------------------
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^:/@\s]*):(?P<pw>[^@\s]+)@")
_KEY_VALUE = re.compile(r"(?i)\b(?P<k>password|passwd|pwd|secret|token|api_key|app_secret)=(?P<v>[^\s&;,'\"]+)")


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with URL passwords, ``password=…`` pairs and every known secret value masked as ``***``."""
    if secrets is None:
        from edp.settings import secret_values

        secrets = secret_values_safe(secret_values)
    for value in secrets:
        text = text.replace(value, "***")
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:***@", text)
    return _KEY_VALUE.sub(lambda m: f"{m['k']}=***", text)


def secret_values_safe(source: Callable[[], list[str]]) -> list[str]:
    try:
        return source()
    except Exception:  # masking must never be the failure
        return []


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def parse_day(value: str, option: str) -> date:
    """A day the operator typed (YYYY-MM-DD), or a bad-argument error naming the option (exit 2, not a bug)."""
    import typer

    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a day YYYY-MM-DD ({exc})", param_hint=f"'{option}'") from None


# -- classification -------------------------------------------------------------------------------------------------
def _is(exc: BaseException, module: str, name: str) -> bool:
    """``isinstance(exc, module.name)`` without importing ``module``: an exception of a module never imported
    cannot have been raised."""
    cls = getattr(sys.modules.get(module), name, None)
    return isinstance(cls, type) and isinstance(exc, cls)


def _click(exc: BaseException, name: str) -> bool:
    """A Click exception, of Click itself or of the copy Typer carries (``typer._click``)."""
    return _is(exc, "click.exceptions", name) or _is(exc, "typer._click.exceptions", name)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes/contexts, outermost first (a wrapped driver error is found inside)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        if _is(current, "tenacity", "RetryError"):
            last = getattr(current, "last_attempt", None)
            inner = last.exception() if last is not None and last.failed else None
            current = inner or current.__cause__ or current.__context__
            continue
        orig = getattr(current, "orig", None)  # sqlalchemy.exc.DBAPIError wraps the driver's error
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return seen


_PG_WHERE = re.compile(r'server (?:at "(?P<host>[^"]+)", port (?P<port>\d+)|on socket "(?P<socket>[^"]+)")')


def _warehouse_where() -> tuple[str, str]:
    """(where the warehouse is, the setting that says so) from the settings, without connecting."""
    try:
        from edp.settings import get_settings

        settings = get_settings()
    except Exception:
        return "the warehouse", "EDP_WAREHOUSE_URL"
    if settings.warehouse_url is None:
        return f"the embedded warehouse ({settings.home / 'pg'})", "EDP_HOME"
    return "the warehouse", "EDP_WAREHOUSE_URL"


def _postgres_failure(exc: BaseException) -> Failure | None:
    text = one_line(str(exc))
    sqlstate = getattr(exc, "sqlstate", None)
    match = _PG_WHERE.search(text)
    where = ""
    if match:
        where = match["socket"] or f"{match['host']}:{match['port']}"
    what, setting = _warehouse_where()
    at = f"{what} at {where}" if where else what
    lowered = text.lower()
    refused = ("password authentication failed", "no password supplied", "authentication failed", "pg_hba.conf")
    if (
        sqlstate in ("28P01", "28000")
        or any(r in lowered for r in refused)
        or re.search(r'role "[^"]+" does not', text)
    ):
        user = re.search(r'(?:for user|role) "([^"]+)"', text)
        who = f" of user {user[1]!r}" if user else ""
        return Failure(
            f"{at} refused the login{who} (credentials refused)",
            EXIT_CONFIG,
            f"check the user and password in {setting} (docs/operations.md, Configuration)",
        )
    if sqlstate == "3D000" or re.search(r'database "[^"]+" does not exist', text):
        db = re.search(r'database "([^"]+)" does not exist', text)
        name = f"database {db[1]!r}" if db else "the database"
        return Failure(
            f"{name} does not exist on {at}", EXIT_CONFIG, f"check the database name in {setting}, or create it"
        )
    if sqlstate is not None:
        return None
    fatal = re.search(r"FATAL:\s*(.+)", text)
    if fatal:
        reason = fatal[1]
    elif "refused" in lowered:
        reason = "connection refused"
    elif "translate host name" in lowered or "name or service not known" in lowered:
        reason = "unknown host name"
    elif "no such file" in lowered:
        reason = "no server on that socket"
    elif "timeout" in lowered or "timed out" in lowered:
        reason = "no answer in time"
    elif "connection" in lowered:
        reason = "connection failed"
    else:
        return None
    return Failure(
        f"cannot reach {at} ({reason})",
        EXIT_SERVICE_UNAVAILABLE,
        f"is PostgreSQL running and {setting} right? `edp status` shows the services",
    )


def _http_failure(exc: BaseException) -> Failure | None:
    request = None
    try:
        request = getattr(exc, "request", None)
    except RuntimeError:  # httpx raises when an error has no request
        request = None
    url = str(getattr(request, "url", "")) if request is not None else ""
    where = f" {url}" if url else ""
    if _is(exc, "httpx", "TimeoutException"):
        return Failure(
            f"no answer from{where or ' a service'} in time ({type(exc).__name__})",
            EXIT_SERVICE_UNAVAILABLE,
            "is the service up? `edp status` shows the platform's services, `edp sources check` the sources",
        )
    if _is(exc, "httpx", "TransportError") or _is(exc, "requests", "ConnectionError"):
        return Failure(
            f"cannot reach{where or ' a service'}: {type(exc).__name__}: {exc}",
            EXIT_SERVICE_UNAVAILABLE,
            "is the service up? `edp status` shows the platform's services, `edp sources check` the sources",
        )
    if _is(exc, "httpx", "HTTPStatusError"):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", "?")
        if status in (401, 403):
            return Failure(
                f"{url or 'a service'} refused the credentials (HTTP {status})",
                EXIT_CONFIG,
                "check the credentials configured for it",
            )
        return Failure(f"{url or 'a service'} answered HTTP {status}", EXIT_FAILED)
    return None


def _validation_failure(exc: BaseException) -> Failure:
    from edp.settings import validation_text

    title = getattr(exc, "title", "value")
    return Failure(f"invalid {title}: {validation_text(exc)}", EXIT_CONFIG)  # type: ignore[arg-type]


def _os_failure(exc: OSError) -> Failure | None:
    if not isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return None
    name = exc.filename or ""
    setting = ""
    try:
        from edp.settings import get_settings

        settings = get_settings()
        if name and str(settings.sources_file) == str(name):
            setting = " (EDP_SOURCES_FILE)"
        elif name and str(name).startswith(str(settings.home)):
            setting = " (under EDP_HOME)"
    except Exception:
        pass
    return Failure(
        f"{exc.strerror or type(exc).__name__}: {name}{setting}",
        EXIT_CONFIG,
        "check the path and its permissions",
    )


def _link_failure(exc: BaseException, link: BaseException) -> Failure | None:
    """The failure for one link of ``exc``'s chain (a wrapped driver or HTTP error), if it is a known one."""
    if isinstance(link, EdpError):
        return Failure(str(link), link.exit_code)
    if _is(link, "psycopg", "OperationalError") or _is(link, "psycopg2", "OperationalError"):
        return _postgres_failure(link)
    if _is(link, "sqlalchemy.exc", "ArgumentError") and "URL" in str(link):
        return Failure(f"a database URL could not be read: {link}", EXIT_CONFIG, "check EDP_WAREHOUSE_URL")
    http = _http_failure(link)
    if http is not None and link is not exc and _is(exc, "tenacity", "RetryError"):
        return Failure(f"still failing after retries: {http.message}", EXIT_SOURCE_UNAVAILABLE, http.hint)
    if http is not None:
        return http
    if _is(link, "redis.exceptions", "ConnectionError") or _is(link, "kombu.exceptions", "OperationalError"):
        return Failure(
            f"cannot reach Celery's broker: {link}",
            EXIT_SERVICE_UNAVAILABLE,
            "is Redis/RabbitMQ up, and EDP_CELERY_BROKER_URL right?",
        )
    return None


def classify(exc: BaseException) -> Failure | None:
    """The failure an operator sees for ``exc``, or None for a bug (an unexpected exception)."""
    if isinstance(exc, EdpError):
        return Failure(str(exc), exc.exit_code)
    if _click(exc, "UsageError"):
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "edp"
        return Failure(exc.format_message(), exc.exit_code, f"see `{command} --help`")  # type: ignore[attr-defined]
    if _click(exc, "ClickException"):
        return Failure(exc.format_message(), exc.exit_code)  # type: ignore[attr-defined]
    if _is(exc, "pydantic_core", "ValidationError"):
        return _validation_failure(exc)
    for link in _chain(exc):
        found = _link_failure(exc, link)
        if found is not None:
            return found
    if _is(exc, "tenacity", "RetryError"):
        return Failure(f"still failing after retries: {exc}", EXIT_SOURCE_UNAVAILABLE)
    if isinstance(exc, ConnectionError):
        return Failure(f"connection failed: {exc}", EXIT_SERVICE_UNAVAILABLE)
    if isinstance(exc, OSError):
        return _os_failure(exc)
    return None


# -- the handler -----------------------------------------------------------------------------------------------------
def _print(lines: list[str], secrets: list[str]) -> None:
    for line in lines:
        print(redact(line, secrets), file=sys.stderr)
    sys.stderr.flush()


def _traceback_text(exc: BaseException) -> str:
    # The standard traceback: source lines and messages, never local variables (they hold keys and URLs).
    return "".join(traceback.format_exception(exc))


def handle(exc: BaseException) -> NoReturn:
    """Print ``exc`` as the operator should see it and exit with its class's code."""
    from edp.settings import secret_values

    secrets = secret_values_safe(secret_values)
    if _click(exc, "Abort"):
        _print(["error: aborted"], secrets)
        raise SystemExit(EXIT_FAILED)
    if isinstance(exc, KeyboardInterrupt):
        _print(["error: interrupted (已中断)"], secrets)
        raise SystemExit(EXIT_INTERRUPTED)
    failure = classify(exc)
    if failure is None:
        print(redact(_traceback_text(exc), secrets), file=sys.stderr, end="")
        _print(
            [
                f"error: unexpected {type(exc).__name__}: {one_line(str(exc))[:500]}",
                "hint: this is a bug (程序缺陷): report it with the traceback above",
            ],
            secrets,
        )
        raise SystemExit(EXIT_BUG)
    if debug_enabled():
        print(redact(_traceback_text(exc), secrets), file=sys.stderr, end="")
    _print(failure.lines(), secrets)
    raise SystemExit(failure.exit_code)


def run(main: Callable[..., Any], *args: Any, **kwargs: Any) -> NoReturn:
    """Run a Click/Typer command in non-standalone mode, all its failures through :func:`handle`."""
    try:
        result = main(*args, standalone_mode=False, **kwargs)
    except SystemExit:
        raise
    except BaseException as exc:  # the one top-level handler
        if _click(exc, "NoArgsIsHelpError"):
            # Typer's rich help printed itself already (its message is then empty); Click's plain one did not.
            if text := exc.format_message().strip():  # type: ignore[attr-defined]
                print(text, file=sys.stderr)
            raise SystemExit(EXIT_CONFIG) from None
        handle(exc)
    raise SystemExit(result if isinstance(result, int) else EXIT_OK)


def exit_codes_epilog() -> str:
    """The exit-code table for `edp --help`."""
    return "Exit codes 退出码: " + ", ".join(f"{code} {short}" for code, short, _ in EXIT_CODES) + "."
