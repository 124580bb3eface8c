"""The command line as a new user meets it, straight from the README: relative paths,
defaults, wrong arguments and settings. Each case runs the real console script in a
working directory of its own and checks the exit code, the one line it prints and that
no Python traceback reaches the terminal."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.cli_process import run_siloscope, write_small_config


def test_the_readme_form_with_relative_paths_runs_validates_and_publishes(tmp_path):
    write_small_config(tmp_path)

    finished = run_siloscope(
        tmp_path, "run", "--config", "config/acme.yaml", "--db", "data/siloscope.duckdb",
        "--date", "2026-11-01",
    )  # fmt: skip

    assert finished.returncode == 0, finished.stderr
    assert not finished.traceback_printed
    assert "verdict: glued" in finished.stdout
    assert (tmp_path / "data" / "published" / "siloscope.duckdb").exists()
    assert (tmp_path / "data" / "quality" / "index.html").exists()

    validated = run_siloscope(tmp_path, "validate", "--db", "data/siloscope.duckdb")
    assert validated.returncode == 0, validated.stderr
    assert not validated.traceback_printed


def test_the_default_paths_are_the_working_directory_s(tmp_path):
    write_small_config(tmp_path)  # the default config is config/acme.yaml

    finished = run_siloscope(tmp_path, "run", "--date", "2026-11-01")

    assert finished.returncode == 0, finished.stderr
    assert not finished.traceback_printed
    with duckdb.connect(str(tmp_path / "data" / "siloscope.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.x_posts").fetchone()[0] > 0
    assert (tmp_path / "data" / "landing" / "x").is_dir()
    assert (tmp_path / "data" / "report.html").exists()


def test_relative_settings_from_the_environment_are_the_working_directory_s(tmp_path):
    write_small_config(tmp_path, "conf/org.yaml")

    finished = run_siloscope(
        tmp_path,
        "run",
        "--date",
        "2026-11-01",
        SILOSCOPE_CONFIG="conf/org.yaml",
        SILOSCOPE_DB="db/work.duckdb",
        SILOSCOPE_LANDING="pages",
        SILOSCOPE_PUBLISHED="for-dashboards",
        SILOSCOPE_REPORT="page.html",
    )

    assert finished.returncode == 0, finished.stderr
    assert (tmp_path / "db" / "work.duckdb").exists()
    assert (tmp_path / "pages" / "x").is_dir()
    assert (tmp_path / "for-dashboards" / "siloscope.duckdb").exists()
    assert (tmp_path / "page.html").exists()


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["run", "--config", "binary.yaml"], {}, "binary.yaml"),
        (["run", "--date", "2026-13-45"], {}, "--date"),
        (["build", "--date", "yesterday", "--window", "rolling"], {}, "--date"),
        (["build"], {"SILOSCOPE_BUILD_MEMORY_LIMIT": "lots"}, "SILOSCOPE_BUILD_MEMORY_LIMIT"),
        (["load", "--landing", "gcs://bucket/landing"], {}, "--landing"),
        (["load"], {"SILOSCOPE_LANDING": "nosuchproto://bucket/x"}, "SILOSCOPE_LANDING"),
        (["load", "--landing", "/nonexistent"], {}, "--landing"),
        (["import", "twcs", "missing.csv"], {}, "missing.csv"),
        (["run", "--config", "/nonexistent.yaml"], {}, "/nonexistent.yaml"),
        (["report", "--html", "page.html", "--db", "none.duckdb"], {}, "none.duckdb"),
    ],
    ids=[
        "binary-config",
        "impossible-date",
        "word-for-a-date",
        "memory-limit-word",
        "landing-backend-missing",
        "landing-protocol-unknown",
        "landing-missing",
        "twcs-file-missing",
        "config-missing",
        "report-db-missing",
    ],
)
def test_unexpected_input_is_one_line_naming_it_and_exit_code_2(tmp_path, args, env, named):
    write_small_config(tmp_path)
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)) * 8)

    finished = run_siloscope(tmp_path, *args, **env)

    assert not finished.traceback_printed, finished.stderr
    assert finished.returncode == 2, finished.stdout + finished.stderr
    line = finished.one_error_line
    assert line.startswith("siloscope"), line
    assert named in line, line
    assert "new page(s)" not in finished.stdout


def test_a_missing_landing_backend_names_the_package_to_install(tmp_path):
    write_small_config(tmp_path)

    finished = run_siloscope(tmp_path, "load", "--landing", "gcs://bucket/landing")

    assert finished.returncode == 2
    assert "gcsfs" in finished.one_error_line


def test_an_internal_failure_is_one_line_and_the_traceback_is_kept_in_a_file(tmp_path):
    write_small_config(tmp_path)
    run_dir = tmp_path / "data" / "landing" / "x" / "Acme" / "dt=2026-11-01" / "run=broken"
    run_dir.mkdir(parents=True)
    (run_dir / "_manifest.json").write_text(json.dumps({"platform": "x", "unexpected": 1}))

    finished = run_siloscope(tmp_path, "load")

    assert finished.returncode == 1
    assert not finished.traceback_printed
    line = finished.one_error_line
    assert "internal error" in line and "--debug" in line, line
    kept = line.split("traceback in ", 1)[1].split(" ", 1)[0]
    with open(kept) as file:
        assert "Traceback (most recent call last)" in file.read()

    debugged = run_siloscope(tmp_path, "--debug", "load")
    assert debugged.returncode == 1
    assert debugged.traceback_printed
