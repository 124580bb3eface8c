"""The `siloscope` command: the pipeline's steps without Airflow.

    siloscope run   --config FILE --db FILE [--source x] [--date YYYY-MM-DD]
    siloscope load  --config FILE --db FILE
    siloscope build --config FILE --db FILE --window all|rolling [--date YYYY-MM-DD]
                    [--full-refresh]
    siloscope validate --config FILE --db FILE
    siloscope publish --config FILE --db FILE [--to DIR]
    siloscope report --db FILE [--html PATH]
    siloscope import twcs PATH --config FILE --db FILE

Credentials for live APIs come from environment variables (SILOSCOPE_X_BEARER_TOKEN, ...).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

from ingest.reconcile import ReconciliationFailed
from siloscope.config import PLATFORMS, ConfigError, load_config
from siloscope.pipeline import ExtractFailed, describe_verdict
from siloscope.publish import PublishRefused
from siloscope.settings import Settings
from transforms.quality import NothingToValidate, ValidationFailed, quality_dir_for


def _midnight(day: str | None) -> datetime:
    """Runs measure up to midnight UTC, so two runs on one day build the same window."""
    chosen = date.fromisoformat(day) if day else datetime.now(UTC).date()
    return datetime.combine(chosen, time(0), tzinfo=UTC)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.resolve(args.config, args.db, args.landing)


def _cmd_run(args: argparse.Namespace) -> int:
    from siloscope.pipeline import run_all
    from siloscope.sources import env_live_source

    settings = _settings(args)
    load_config(settings.config_path)  # a wrong config stops here, before anything runs
    until = _midnight(args.date)
    platforms = (args.source,) if args.source else PLATFORMS
    run_id = f"cli__{until.date().isoformat()}"
    row = run_all(settings, run_id, until, platforms, live_source=env_live_source)
    print(describe_verdict(row))
    print(f"validated; Data Docs: {quality_dir_for(settings.db_path) / 'index.html'}")
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    from siloscope.pipeline import load

    settings = _settings(args)
    print(load(settings).describe())
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from siloscope.pipeline import build, nightly_window
    from transforms.build import BuildWindow

    settings = _settings(args)
    config = load_config(settings.config_path)
    if args.window == "all":
        window = BuildWindow.everything()
    else:
        window = nightly_window(config, _midnight(args.date))
    row = build(settings, config, window, full_refresh=args.full_refresh)
    print(f"window {window.describe()}: {describe_verdict(row)}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from siloscope.pipeline import validate

    settings = _settings(args)
    config = load_config(settings.config_path)
    run_id = f"validate__{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    print(validate(settings, config, run_id).describe())
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from siloscope.publish import publish

    settings = _settings(args)
    config = load_config(settings.config_path)
    target = Path(args.to) if args.to else settings.published_root
    print(publish(settings.db_path, target, config.organization).describe())
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from siloscope.report import terminal_report

    settings = _settings(args)
    if args.html:
        from siloscope.report_page import write_report_page

        if not settings.db_path.exists():
            print(f"siloscope: no database at {settings.db_path}", file=sys.stderr)
            return 1
        organization = (
            load_config(settings.config_path).organization
            if settings.config_path.exists()
            else None
        )
        print(f"report page: {write_report_page(settings.db_path, args.html, organization)}")
        return 0
    print(terminal_report(settings))
    return 0


def _cmd_import_twcs(args: argparse.Namespace) -> int:
    from siloscope.twcs_import import import_twcs_file

    settings = _settings(args)
    config = load_config(settings.config_path)  # a wrong config stops here, before anything runs
    progress = sys.stderr if sys.stderr.isatty() else None
    return import_twcs_file(settings, config, args.path, progress)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siloscope", description="Silo-vs-glue metrics of customer conversations."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--config", help="organisation config (default: $SILOSCOPE_CONFIG)")
        sub.add_argument("--db", help="DuckDB file (default: $SILOSCOPE_DB)")
        sub.add_argument(
            "--landing", help="landing zone path or URL (default: landing/ beside the DB)"
        )
        return sub

    run = add("run", "extract, load, build, publish: the nightly job without Airflow")
    run.add_argument("--source", choices=PLATFORMS, help="one platform only")
    run.add_argument("--date", help="run as of midnight UTC of this day (default: today)")
    run.set_defaults(handler=_cmd_run)

    load = add("load", "load new landing files into DuckDB")
    load.set_defaults(handler=_cmd_load)

    build = add("build", "(re)build staging and marts")
    build.add_argument("--window", choices=("all", "rolling"), default="all")
    build.add_argument("--date", help="end of the rolling window, midnight UTC (default: today)")
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="restage every raw row, not only those loaded since the last build",
    )
    build.set_defaults(handler=_cmd_build)
    publish = add("publish", "copy the built marts to where dashboards read them (+ Parquet)")
    publish.add_argument(
        "--to", help="published folder (default: $SILOSCOPE_PUBLISHED, else published/ by the DB)"
    )
    publish.set_defaults(handler=_cmd_publish)
    validate = add("validate", "check staging and marts against the quality suites")
    validate.set_defaults(handler=_cmd_validate)

    report = add("report", "print the latest verdict, glue department and department table")
    report.add_argument("--html", help="write the report page (self-contained HTML) here instead")
    report.set_defaults(handler=_cmd_report)

    importing = commands.add_parser("import", help="import a file in a public dataset's format")
    formats = importing.add_subparsers(dest="format", required=True)
    twcs = formats.add_parser(
        "twcs", help='a "Customer Support on Twitter" CSV file (progress shown on a terminal)'
    )
    twcs.add_argument("path", help="the CSV file")
    twcs.add_argument("--config", help="organisation config (default: $SILOSCOPE_CONFIG)")
    twcs.add_argument("--db", help="DuckDB file (default: $SILOSCOPE_DB)")
    twcs.set_defaults(handler=_cmd_import_twcs, landing=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"siloscope: {exc}", file=sys.stderr)
        return 2
    except ExtractFailed as exc:
        if exc.verdict:  # the accounts that worked were built: say what they show
            print(describe_verdict(exc.verdict))
        print(f"siloscope: {exc}", file=sys.stderr)
        return 1
    except (PublishRefused, ReconciliationFailed, ValidationFailed, NothingToValidate) as exc:
        print(f"siloscope: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
