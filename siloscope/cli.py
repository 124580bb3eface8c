"""The `siloscope` command: the pipeline's steps without Airflow.

    siloscope run   --config FILE --db FILE [--source x] [--date YYYY-MM-DD]
    siloscope load  --config FILE --db FILE
    siloscope build --config FILE --db FILE --window all|rolling [--date YYYY-MM-DD]
                    [--full-refresh]
    siloscope validate --config FILE --db FILE
    siloscope publish --config FILE --db FILE [--to DIR] [--date YYYY-MM-DD] [--source x]
    siloscope report --db FILE [--html PATH | --cost]
    siloscope import twcs PATH --config FILE --db FILE

Credentials for live APIs come from environment variables (SILOSCOPE_X_BEARER_TOKEN, ...).

Every path (arguments, SILOSCOPE_* variables, defaults) is made absolute once, before a
command runs. A command ends in one line on stderr, never a traceback: exit code 2 for
input it cannot use (naming the argument, setting or file), 3 when the database is busy
(another run, or a reader), 1 when the run failed; an unexpected failure writes its
traceback to a file and names it (`--debug` prints it instead).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NoReturn

from ingest.reconcile import ReconciliationFailed
from ingest.twcs import TwcsFileError
from siloscope.config import PLATFORMS, ConfigError, load_config
from siloscope.database import DatabaseBusy, DatabaseUnusable, explain, run_lock
from siloscope.pipeline import ExtractFailed, NightIncomplete, describe_verdict
from siloscope.publish import PublishRefused
from siloscope.settings import SettingError, Settings
from transforms.quality import NothingToValidate, ValidationFailed, quality_dir_for

EXIT_FAILED = 1  # the run ran and failed: an account, the books, a quality check, a bug
EXIT_INPUT = 2  # an argument, setting or file that cannot be used; nothing was changed
EXIT_BUSY = 3  # another run or a reader holds the database; try again later
EXIT_INTERRUPTED = 130

# commands that write the working database take the run lock before anything else
_WRITERS = {"run", "load", "build", "validate", "publish", "import"}
_INPUT_ERRORS = (ConfigError, SettingError, TwcsFileError)
_RUN_FAILURES = (
    ExtractFailed,
    NightIncomplete,
    PublishRefused,
    ReconciliationFailed,
    ValidationFailed,
    NothingToValidate,
    DatabaseUnusable,
)


class InputError(ValueError):
    """An argument the command cannot use; the message names it."""


def _day(text: str) -> date:
    """An argparse type: a calendar day, refused with the reason when it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day like 2026-11-01 ({exc})") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line naming the argument, instead of argparse's usage block."""
        self.exit(EXIT_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _midnight(day: date | None) -> datetime:
    """Runs measure up to midnight UTC, so two runs on one day build the same window."""
    return datetime.combine(day or datetime.now(UTC).date(), time(0), tzinfo=UTC)


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from siloscope.pipeline import run_all
    from siloscope.sources import env_live_source

    load_config(settings.config_path)  # a wrong config stops here, before anything runs
    until = _midnight(args.date)
    platforms = (args.source,) if args.source else PLATFORMS
    run_id = f"cli__{until.date().isoformat()}"
    row = run_all(settings, run_id, until, platforms, live_source=env_live_source)
    print(describe_verdict(row))
    print(f"validated; Data Docs: {quality_dir_for(settings.db_path) / 'index.html'}")
    return 0


def _cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    from siloscope.pipeline import load

    _require_landing(settings)
    print(load(settings).describe())
    return 0


def _cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from siloscope.pipeline import build, nightly_window
    from transforms.build import BuildWindow

    config = load_config(settings.config_path)
    if args.window == "all":
        window = BuildWindow.everything()
    else:
        window = nightly_window(config, _midnight(args.date))
    row = build(settings, config, window, full_refresh=args.full_refresh)
    print(f"window {window.describe()}: {describe_verdict(row)}")
    return 0


def _cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    from siloscope.pipeline import validate

    config = load_config(settings.config_path)
    run_id = f"validate__{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    print(validate(settings, config, run_id).describe())
    return 0


def _cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    from siloscope.pipeline import built_night, publish

    config = load_config(settings.config_path)
    night = _midnight(args.date) if args.date else built_night(settings)
    platforms = (args.source,) if args.source else PLATFORMS
    print(publish(settings, config, night, platforms, args.to).describe())
    return 0


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from siloscope.report import terminal_report

    if args.cost:
        from siloscope.costs import cost_report

        config = load_config(settings.config_path)  # the price per read
        if not settings.db_path.exists():
            raise InputError(f"--db {settings.db_path}: no database there: run `siloscope run`")
        print(cost_report(settings, config.costs.x_price_per_read))
        return 0
    if args.html:
        from siloscope.report_page import write_report_page

        if not settings.db_path.exists():
            raise InputError(f"--db {settings.db_path}: no database there: run `siloscope run`")
        organization = (
            load_config(settings.config_path).organization
            if settings.config_path.exists()
            else None
        )
        print(f"report page: {write_report_page(settings.db_path, args.html, organization)}")
        return 0
    print(terminal_report(settings))
    return 0


def _cmd_import_twcs(args: argparse.Namespace, settings: Settings) -> int:
    from siloscope.twcs_import import import_twcs_file

    config = load_config(settings.config_path)  # a wrong config stops here, before anything runs
    progress = sys.stderr if sys.stderr.isatty() else None
    return import_twcs_file(settings, config, args.path, progress)


def _require_landing(settings: Settings) -> None:
    """A landing zone that is not there is a wrong path, not a night with nothing new."""
    if not settings.landing_zone().fs.isdir(settings.landing_root):
        raise InputError(
            f"{settings.landing_origin} {settings.landing_root}: no landing zone there "
            "(extract into it first, or give the folder the extract wrote to)"
        )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="siloscope", description="Silo-vs-glue metrics of customer conversations."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    parser.add_argument(
        "--debug", action="store_true", help="print the full traceback of an unexpected error"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        # also after the command; SUPPRESS keeps the sub-parser from undoing `--debug run`
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
        sub.add_argument("--config", help="organisation config (default: $SILOSCOPE_CONFIG)")
        sub.add_argument("--db", help="DuckDB file (default: $SILOSCOPE_DB)")
        sub.add_argument(
            "--landing", help="landing zone path or URL (default: landing/ beside the DB)"
        )
        return sub

    run = add("run", "extract, load, build, publish: the nightly job without Airflow")
    run.add_argument("--source", choices=PLATFORMS, help="one platform only")
    run.add_argument(
        "--date", type=_day, help="run as of midnight UTC of this day (default: today)"
    )
    run.set_defaults(handler=_cmd_run)

    load = add("load", "load new landing files into DuckDB")
    load.set_defaults(handler=_cmd_load)

    build = add("build", "(re)build staging and marts")
    build.add_argument("--window", choices=("all", "rolling"), default="all")
    build.add_argument(
        "--date", type=_day, help="end of the rolling window, midnight UTC (default: today)"
    )
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="restage every raw row, not only those loaded since the last build",
    )
    build.set_defaults(handler=_cmd_build)
    publish = add("publish", "copy the built marts to where dashboards read them (+ Parquet)")
    publish.add_argument(
        "--to",
        type=Path,
        help="published folder (default: $SILOSCOPE_PUBLISHED, else published/ by the DB)",
    )
    publish.add_argument(
        "--date",
        type=_day,
        help="the night that must be complete (default: the one the build covers)",
    )
    publish.add_argument("--source", choices=PLATFORMS, help="one platform's accounts only")
    publish.set_defaults(handler=_cmd_publish)
    validate = add("validate", "check staging and marts against the quality suites")
    validate.set_defaults(handler=_cmd_validate)

    report = add("report", "print the latest verdict, glue department and department table")
    report.add_argument(
        "--html", type=Path, help="write the report page (self-contained HTML) here instead"
    )
    report.add_argument(
        "--cost",
        action="store_true",
        help="X reads and estimated dollars per night and account instead (costs in the config)",
    )
    report.set_defaults(handler=_cmd_report)

    importing = commands.add_parser("import", help="import a file in a public dataset's format")
    formats = importing.add_subparsers(dest="format", required=True)
    twcs = formats.add_parser(
        "twcs", help='a "Customer Support on Twitter" CSV file (progress shown on a terminal)'
    )
    twcs.add_argument("path", type=Path, help="the CSV file")
    twcs.add_argument("--config", help="organisation config (default: $SILOSCOPE_CONFIG)")
    twcs.add_argument("--db", help="DuckDB file (default: $SILOSCOPE_DB)")
    twcs.set_defaults(handler=_cmd_import_twcs, landing=None)
    return parser


def _absolute_paths(args: argparse.Namespace) -> None:
    for name in ("to", "html", "path"):
        if getattr(args, name, None) is not None:
            setattr(args, name, getattr(args, name).absolute())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = None
    try:
        settings = Settings.resolve(args.config, args.db, args.landing)
        _absolute_paths(args)
        return _run_command(args, settings, " ".join(["siloscope", *argv]))
    except _INPUT_ERRORS + (InputError,) as exc:
        return _say(exc, EXIT_INPUT)
    except DatabaseBusy as exc:
        return _say(exc, EXIT_BUSY)
    except ExtractFailed as exc:
        if exc.verdict:  # the accounts that worked were built: say what they show
            print(describe_verdict(exc.verdict))
        return _say(exc, EXIT_FAILED)
    except _RUN_FAILURES as exc:
        return _say(exc, EXIT_FAILED)
    except KeyboardInterrupt:
        return _say("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:
        if settings and (busy := explain(exc, settings.db_path, settings.published_root)):
            return _say(busy, EXIT_BUSY if isinstance(busy, DatabaseBusy) else EXIT_FAILED)
        return _internal_error(exc, args.debug)


def _run_command(args: argparse.Namespace, settings: Settings, command_line: str) -> int:
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    if args.command not in _WRITERS:
        return handler(args, settings)
    with run_lock(settings.db_path, command_line):
        return handler(args, settings)


def _say(problem: object, code: int) -> int:
    print(f"siloscope: {problem}", file=sys.stderr)
    return code


def _internal_error(exc: Exception, debug: bool) -> int:
    """One line and the traceback in a file: a bug report without a wall of text."""
    if debug:
        traceback.print_exc()
        return EXIT_FAILED
    folder = Path(tempfile.gettempdir()) / "siloscope-errors"
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{id(exc):x}.txt"
    kept.write_text("".join(traceback.format_exception(exc)))
    first_line = (str(exc).splitlines() or [""])[0]
    return _say(
        f"internal error: {type(exc).__name__}: {first_line}; full traceback in {kept} "
        "(or run again with --debug to print it)",
        EXIT_FAILED,
    )


if __name__ == "__main__":
    sys.exit(main())
