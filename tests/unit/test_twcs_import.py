"""`siloscope import twcs` on a TWCS-format sample written here, with the quirks of real copies.

Line numbers, counts and marts below are worked out by hand from SAMPLE_LINES.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

import ingest.twcs.importer as twcs_importer
from ingest.twcs import TwcsFileError, import_twcs
from siloscope.cli import main as siloscope

HEADER = ",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"

# SAMPLE_LINES[n - 1] is line n of the file.
SAMPLE_LINES = [
    HEADER,  # 1
    # conversation 1: a customer, Care (a text over two lines, float ids), the customer, Marketing
    '0,1,115712,True,Tue Oct 31 22:00:00 +0000 2017,"@AcmeHelp my order, ""12"", is late",2,',
    '1,2.0,AcmeHelp,False,Tue Oct 31 22:01:00 +0000 2017,"@115712 sorry!',  # 3
    'we are on it, ask @Acme for a voucher",3,1.0',  # 4
    '2,3,115712,TRUE,Tue Oct 31 22:05:00 +0000 2017,@AcmeHelp thanks,"4,5",2',  # 5
    "3,4,Acme,FALSE,Tue Oct 31 22:06:00 +0000 2017,@115712 here is 10% off,,3",  # 6
    # conversation 10: a customer and a company the config does not list (an 'other')
    "4,10,223344,True,Wed Nov 01 09:00:00 +0000 2017,@OtherCo hello,11,",  # 7
    "5,11,OtherCo,False,Wed Nov 01 09:02:00 +0000 2017,@223344 hi,1.23457E+17,10",  # 8
    "6,12,223344,True",  # 9: too few fields
    "7,13,223344,maybe,Wed Nov 01 09:03:00 +0000 2017,hm,,11",  # 10
    "8,14,223344,True,2017-11-01 09:04:00,an ISO time,,11",  # 11
    "9,1.5,223344,True,Wed Nov 01 09:05:00 +0000 2017,a fraction,,11",  # 12
    "10,15,223344,True,Wed Nov 01 09:06:00 +0000 2017,mangled parent,,1.23457E+17",  # 13
    # conversation 20: its first tweet answers one that is not in the file
    '11,20,3003,true,Thu Nov 02 10:00:00 +0000 2017,"@AcmeHelp ""quoted"", and',  # 14
    "",  # 15: inside the quoted text
    'an empty line above",21,999',  # 16
    "12,21,AcmeHelp,false,Thu Nov 02 10:10:00 +0000 2017,@3003 DM us,,20",  # 17
    "13,30,3003,True,Thu Nov 02 10:15:00 +0000 2017,one field too many,,,20",  # 18
    "",  # 19: a blank line between rows
    "14,22,acmehelp,False,Thu Nov 02 10:20:00 +0000 2017,@3003 following up,,21",  # 20
    "15,22,3003,True,Thu Nov 02 10:30:00 +0000 2017,the same tweet_id again,,21",  # 21
    '16,23,3003,True,Thu Nov 02 10:40:00 +0000 2017,"never closed,,22',  # 22
    "17,24,3003,True,Thu Nov 02 10:50:00 +0000 2017,swallowed by line 22,,23",  # 23
]

EXPECTED_REJECTS = [
    ("line 9", "malformed CSV row (missing columns)"),
    ("line 10", "inbound is not True or False: maybe"),
    ("line 11", 'created_at is not a time like "Tue Oct 31 22:10:47 +0000 2017": 2017-11-01'),
    ("line 12", "tweet_id is not a whole number: 1.5"),
    ("line 13", "in_response_to_tweet_id is not a whole number: 1.23457E+17"),
    ("line 18", "malformed CSV row (too many columns)"),
    ("line 22", "malformed CSV row (unquoted value)"),
]
LOADED_IDS = ["1", "2", "3", "4", "10", "11", "20", "21", "22"]

CONFIG = """organization: Acme
departments:
  - name: Care
    accounts:
      x: ["@AcmeHelp"]
  - name: Marketing
    accounts:
      x: [Acme]
thresholds:
  min_conversations: 2
"""


def write_sample(path: Path, lines: list[str] = SAMPLE_LINES, newline: str = "\n") -> Path:
    path.write_bytes((newline.join(lines) + newline).encode())
    return path


@pytest.fixture
def sample(tmp_path) -> Path:
    return write_sample(tmp_path / "twcs.csv")


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "siloscope.duckdb"))
    yield connection
    connection.close()


def rejects(con) -> list[tuple[str, str]]:
    return con.execute(
        "select record_path, reason from ops.rejects where platform = 'twcs' "
        "order by cast(split_part(record_path, ' ', 2) as integer)"
    ).fetchall()


def assert_expected_rejects(found: list[tuple[str, str]]) -> None:
    assert [path for path, _ in found] == [path for path, _ in EXPECTED_REJECTS]
    for (_, reason), (_, expected) in zip(found, EXPECTED_REJECTS, strict=True):
        assert reason.startswith(expected), (reason, expected)


def loaded_ids(con) -> list[str]:
    return [
        tweet_id
        for (tweet_id,) in con.execute(
            "select tweet_id from raw.twcs_messages order by cast(tweet_id as bigint)"
        ).fetchall()
    ]


def table_counts(con) -> dict[str, int]:
    tables = ("raw.twcs_messages", "ops.rejects", "ops.imports")
    return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def test_broken_rows_go_to_rejects_with_their_line_and_the_rest_loads_once(con, sample):
    report = import_twcs(con, sample)
    assert_expected_rejects(rejects(con))
    assert loaded_ids(con) == LOADED_IDS
    # 17 rows: 9 loaded, the second tweet 22 (line 21), 7 rejected; blank lines are no rows
    assert (report.rows_read, report.rows_loaded) == (17, 9)
    assert (report.rows_duplicate, report.rows_rejected) == (1, 7)
    assert con.execute(
        "select format, file, sha256, rows_read, rows_loaded, rows_duplicate, rows_rejected "
        "from ops.imports"
    ).fetchall() == [("twcs", str(sample.resolve()), report.sha256, 17, 9, 1, 7)]
    assert con.execute(
        "select distinct landing_file, platform, account from ops.rejects"
    ).fetchall() == [(str(sample.resolve()), "twcs", None)]


def test_rows_are_kept_as_written_except_float_written_ids(con, sample):
    import_twcs(con, sample)
    rows = {
        row[0]: row[1:]
        for row in con.execute(
            "select tweet_id, author_id, inbound, created_at, text, response_tweet_id, "
            "in_response_to_tweet_id from raw.twcs_messages"
        ).fetchall()
    }
    assert rows["2"] == (
        "AcmeHelp",
        "False",
        "Tue Oct 31 22:01:00 +0000 2017",
        "@115712 sorry!\nwe are on it, ask @Acme for a voucher",
        "3",
        "1",  # written 1.0
    )
    assert rows["1"][3] == '@AcmeHelp my order, "12", is late'
    assert rows["3"][4] == "4,5"
    assert rows["11"][4] == "1.23457E+17"  # mangled, kept as written, never used
    assert rows["20"][3] == '@AcmeHelp "quoted", and\n\nan empty line above'
    assert rows["22"][:1] == ("acmehelp",)  # the first row of tweet 22 in the file wins


def test_a_broken_row_is_kept_as_received(con, sample):
    import_twcs(con, sample)
    records = dict(con.execute("select record_path, record from ops.rejects").fetchall())
    assert records["line 9"] == "6,12,223344,True"
    assert json.loads(records["line 10"]) == {
        "tweet_id": "13",
        "author_id": "223344",
        "inbound": "maybe",
        "created_at": "Wed Nov 01 09:03:00 +0000 2017",
        "text": "hm",
        "response_tweet_id": None,
        "in_response_to_tweet_id": "11",
    }
    # an unterminated quote runs to the end of the file: one reject holds all of it
    assert "swallowed by line 22" in records["line 22"]


def test_importing_the_same_file_twice_changes_nothing(con, sample):
    first = import_twcs(con, sample)
    before = table_counts(con)
    second = import_twcs(con, sample)
    assert (
        table_counts(con)
        == before
        == {
            "raw.twcs_messages": 9,
            "ops.rejects": 7,
            "ops.imports": 1,
        }
    )
    assert second.already_imported_at is not None
    assert second.sha256 == first.sha256
    assert "nothing changed" in second.describe()


def test_an_overlapping_file_loads_only_new_tweets(con, sample, tmp_path):
    import_twcs(con, sample)
    overlap = write_sample(
        tmp_path / "more.csv",
        [
            HEADER,
            "0,4.0,Acme,False,Tue Oct 31 22:06:00 +0000 2017,tweet 4 again,,3",
            "1,40,115712,True,Tue Oct 31 23:00:00 +0000 2017,@Acme new,,4",
        ],
    )
    report = import_twcs(con, overlap)
    assert (report.rows_read, report.rows_loaded, report.rows_duplicate) == (2, 1, 1)
    assert loaded_ids(con) == [*LOADED_IDS, "40"]
    assert con.execute("select text from raw.twcs_messages where tweet_id = '4'").fetchone() == (
        "@115712 here is 10% off",
    )


def test_a_file_imported_again_after_an_edit_replaces_its_rejects(con, sample):
    import_twcs(con, sample)
    fixed = list(SAMPLE_LINES)
    fixed[9] = "7,13,223344,True,Wed Nov 01 09:03:00 +0000 2017,hm,,11"  # line 10, fixed
    write_sample(sample, fixed)
    report = import_twcs(con, sample)
    assert (report.rows_loaded, report.rows_duplicate, report.rows_rejected) == (1, 10, 6)
    assert [path for path, _ in rejects(con)] == [
        path for path, _ in EXPECTED_REJECTS if path != "line 10"
    ]
    assert "13" in loaded_ids(con)
    assert con.execute("select count(*) from ops.imports").fetchone() == (2,)


def test_windows_line_endings_give_the_same_rows_and_lines(con, tmp_path):
    crlf = write_sample(tmp_path / "crlf.csv", newline="\r\n")
    import_twcs(con, crlf)
    assert_expected_rejects(rejects(con))
    assert loaded_ids(con) == LOADED_IDS


def test_reject_lines_are_found_page_by_page(con, sample, monkeypatch):
    # many rejected rows are placed a page at a time; two per page exercises the seams
    monkeypatch.setattr(twcs_importer, "_PAGE", 2)
    import_twcs(con, sample)
    assert_expected_rejects(rejects(con))


@pytest.mark.parametrize("first_column", ["", "Unnamed: 0", None])
def test_the_index_column_is_optional_and_the_header_may_start_with_a_bom(
    con, tmp_path, first_column
):
    rows = [
        ["1", "115712", "True", "Tue Oct 31 22:00:00 +0000 2017", "hi", "", ""],
        ["2.0", "AcmeHelp", "false", "Tue Oct 31 22:01:00 +0000 2017", "yo", "", "1.0"],
        ["3", "115712", "bad", "Tue Oct 31 22:02:00 +0000 2017", "x", "", "2"],
    ]
    names = HEADER.split(",")[1:]
    if first_column is not None:
        names = [first_column, *names]
        rows = [[str(i), *row] for i, row in enumerate(rows)]
    lines = [",".join(f'"{n}"' if " " in n else n for n in names)]
    lines += [",".join(row) for row in rows]
    path = tmp_path / "small.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode())
    report = import_twcs(con, path)
    assert (report.rows_loaded, report.rows_rejected) == (2, 1)
    assert con.execute(
        "select tweet_id, author_id, in_response_to_tweet_id from raw.twcs_messages "
        "order by tweet_id"
    ).fetchall() == [("1", "115712", None), ("2", "AcmeHelp", "1")]
    assert rejects(con) == [("line 4", "inbound is not True or False: bad")]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"id,user,text\n1,2,3\n", "missing ['tweet_id'"),
        (b"tweet_id,author_id,inbound,created_at,text,response_tweet_id\n", "missing"),
        (HEADER.replace("text", "tweet_id").encode() + b"\n", "repeated ['tweet_id']"),
        (b"", "missing"),
    ],
)
def test_a_file_that_is_not_twcs_is_refused_with_its_name(con, tmp_path, content, problem):
    path = tmp_path / "other.csv"
    path.write_bytes(content)
    with pytest.raises(TwcsFileError) as refused:
        import_twcs(con, path)
    assert str(path) in str(refused.value)
    assert problem in str(refused.value)


def test_progress_is_drawn_only_on_the_stream_it_is_given(con, sample):
    terminal = io.StringIO()
    report = import_twcs(con, sample, progress_stream=terminal)
    drawn = terminal.getvalue()
    for stage in ("hashing", "reading", "checking", "finding the lines of 7 rejected row(s)"):
        assert stage in drawn
    assert drawn.endswith(report.describe() + "\n")


def test_the_command_imports_then_build_measures_it(tmp_path, sample, capsys):
    config = tmp_path / "acme.yaml"
    config.write_text(CONFIG)
    db = tmp_path / "cli.duckdb"
    common = ["--config", str(config), "--db", str(db)]

    assert siloscope(["import", "twcs", str(sample), *common]) == 0
    out, err = capsys.readouterr()
    assert "17 row(s) read, 9 loaded, 1 duplicate(s) skipped, 7 rejected" in out
    assert "messages by the config's X accounts in raw.twcs_messages: acme 1, acmehelp 3" in out
    assert err == ""  # no progress drawn: stderr is not a terminal here

    assert siloscope(["build", *common, "--window", "all"]) == 0
    with duckdb.connect(str(db), read_only=True) as built:
        messages = built.execute(
            "select message_id, conversation_id, author_kind, department "
            "from intermediate.int_messages order by cast(message_id as bigint)"
        ).fetchall()
        conversations = {
            row[0]: row[1:]
            for row in built.execute(
                "select conversation_id, first_response_seconds, first_department, "
                "departments_engaged, handoffs, messages, customer_messages, org_messages "
                "from marts.conversations where platform = 'twcs'"
            ).fetchall()
        }
        pair = built.execute(
            "select handoffs_a_to_b, handoffs_b_to_a, referrals_a_to_b, referrals_b_to_a, "
            "shared_customers, co_handled_conversations from marts.department_pairs"
        ).fetchall()
        verdict = built.execute(
            "select customer_conversations, engaged_conversations, handled_conversations, "
            "cross_department_conversations, cross_department_share, glue_department, verdict "
            "from marts.org_verdict"
        ).fetchall()

    # conversations follow in_response_to_tweet_id; 20's parent 999 is not in the file
    assert messages == [
        ("1", "1", "customer", None),
        ("2", "1", "org", "Care"),
        ("3", "1", "customer", None),
        ("4", "1", "org", "Marketing"),
        ("10", "10", "customer", None),
        ("11", "10", "other", None),  # a company (inbound False) the config does not list
        ("20", "20", "customer", None),
        ("21", "20", "org", "Care"),
        ("22", "20", "org", "Care"),  # 'acmehelp': handles compare in any case
    ]
    assert conversations == {
        # Care answers after 60 s, Marketing after the customer's thanks: one handoff
        "1": (60.0, "Care", ["Care", "Marketing"], 1, 4, 2, 2),
        # only OtherCo answered: unhandled
        "10": (None, None, [], 0, 2, 1, 0),
        "20": (600.0, "Care", ["Care"], 0, 3, 1, 2),
    }
    # Care -> Marketing once; Care's tweet 2 mentions @Acme: a referral Care -> Marketing
    assert pair == [(1, 0, 1, 0, 1, 1)]
    # 3 customer conversations, 2 engaged (1, 20), both answered, 1 cross-department;
    # Care and Marketing have one partner each, so both glue scores are 0: a tie, no glue
    assert verdict == [(3, 2, 2, 1, 0.5, None, "networked")]


def test_the_command_refuses_a_file_that_is_not_twcs_before_touching_the_database(tmp_path, capsys):
    config = tmp_path / "acme.yaml"
    config.write_text(CONFIG)
    db = tmp_path / "untouched.duckdb"
    assert siloscope(["import", "twcs", str(config), "--config", str(config), "--db", str(db)]) == 2
    assert f"siloscope: {config}: not a TWCS file" in capsys.readouterr().err
    assert not db.exists()


def test_staging_types_the_imported_rows(con, sample):
    from ingest.load import ensure_schema
    from siloscope.config import OrgConfig
    from transforms.build import BuildWindow, build_models

    import_twcs(con, sample)
    ensure_schema(con)
    org = OrgConfig.model_validate(
        {"organization": "Acme", "departments": [{"name": "Care", "accounts": {"x": ["a"]}}]}
    )
    build_models(con, org.for_models(), BuildWindow.everything())
    assert con.execute(
        "select platform, message_id, conversation_id, parent_id, author_id, author_handle, "
        "author_inbound, created_at from intermediate.int_messages_unioned where message_id = '2'"
    ).fetchone() == (
        "twcs",
        "2",
        None,
        "1",
        "AcmeHelp",
        "acmehelp",
        False,
        datetime(2017, 10, 31, 22, 1, tzinfo=UTC),
    )


def test_columns_in_another_order_bytes_that_are_not_utf8_and_a_missing_author(con, tmp_path):
    path = tmp_path / "reordered.csv"
    path.write_bytes(
        b"text,in_response_to_tweet_id,created_at,inbound,author_id,tweet_id,response_tweet_id\n"
        b"hello,,Tue Oct 31 22:00:00 +0000 2017,True,115712,1,\n"  # 2
        b"caf\xe9 in latin-1,1,Tue Oct 31 22:01:00 +0000 2017,False,AcmeHelp,2,\n"  # 3
        b'"no author,\nover two lines",1,Tue Oct 31 22:02:00 +0000 2017,False,,3,\n'  # 4-5
        b"bye,1,Tue Oct 31 22:03:00 +0000 2017,False,AcmeHelp,4,\n"  # 6
    )
    report = import_twcs(con, path)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 2, 2)
    assert con.execute(
        "select tweet_id, author_id, text, in_response_to_tweet_id from raw.twcs_messages "
        "order by tweet_id"
    ).fetchall() == [("1", "115712", "hello", None), ("4", "AcmeHelp", "bye", "1")]
    found = rejects(con)
    assert [path for path, _ in found] == ["line 3", "line 4"]
    assert found[0][1].startswith("malformed CSV row (invalid encoding)")
    assert found[1][1] == "missing author_id"


# Real copies carry carriage returns inside texts. Read as the dataset's users read it
# (Python's csv module, pandas): inside quotes a line break is text; outside quotes any
# of \r, \r\n and \n ends the line, so the row is cut in two and both pieces are refused.
BREAKS = {"CR": "\r", "CRLF": "\r\n", "LF": "\n"}


def row(tweet_id: str, text: str, author: str = "115712") -> str:
    return f"{tweet_id},{author},True,Tue Oct 31 22:00:00 +0000 2017,{text},,"


@pytest.mark.parametrize("ending", ["LF", "CRLF"])
@pytest.mark.parametrize("inside", ["CR", "CRLF", "LF"])
def test_a_line_break_inside_quoted_text_is_kept_as_written(con, tmp_path, ending, inside):
    lines = [
        HEADER.removeprefix(","),
        row("1", f'"before{BREAKS[inside]}after"'),
        row("2", "plain"),
    ]
    path = write_sample(tmp_path / "quoted.csv", lines, newline=BREAKS[ending])

    report = import_twcs(con, path)

    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 2, 0)
    texts = con.execute("select text from raw.twcs_messages order by tweet_id").fetchall()
    assert texts == [(f"before{BREAKS[inside]}after",), ("plain",)]


@pytest.mark.parametrize("ending", ["LF", "CRLF"])
@pytest.mark.parametrize("inside", ["CR", "CRLF", "LF"])
def test_a_line_break_inside_unquoted_text_cuts_the_row_and_nothing_else(
    con, tmp_path, ending, inside
):
    lines = [
        HEADER.removeprefix(","),  # 1
        row("1", "first"),  # 2
        row("2", f"before{BREAKS[inside]}after"),  # 3, and its second half on 4
        row("3", "after the cut"),  # 5
    ]
    path = write_sample(tmp_path / "unquoted.csv", lines, newline=BREAKS[ending])

    report = import_twcs(con, path)

    assert loaded_ids(con) == ["1", "3"]
    assert [line for line, _ in rejects(con)] == ["line 3", "line 4"]
    assert all(reason.startswith("malformed CSV row") for _, reason in rejects(con))
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (4, 2, 2)


def test_bare_carriage_returns_do_not_stop_the_rest_of_the_sample(con, tmp_path):
    """The hand-worked sample, with a bare CR in one unquoted text on top: the sample's
    rows and lines are as before, the cut row is refused in two."""
    # before line 22, whose unterminated quote swallows the rest of the file
    cut = "18,40,3003,True,Thu Nov 02 11:00:00 +0000 2017,cut\rhere,,"
    lines = [*SAMPLE_LINES[:21], cut, *SAMPLE_LINES[21:]]
    path = write_sample(tmp_path / "sample-with-cr.csv", lines)

    import_twcs(con, path)

    found = rejects(con)
    assert ("line 22", "malformed CSV row (missing columns)") in [
        (line, reason.split(":")[0]) for line, reason in found
    ]
    assert "line 23" in [line for line, _ in found]  # "here,," is the rest of the cut row
    assert loaded_ids(con) == LOADED_IDS


@pytest.mark.parametrize(
    ("body", "mixed"),
    [
        (b"a,b\nc,d\n", False),
        (b"a,b\r\nc,d\r\n", False),
        (b'a,"b\rc"\n', True),  # harmless inside quotes, but rewriting it changes nothing
        (b"a,b\rc,d\n", True),
        (b"a,b\r\nc,d\ne\n", True),
        (b"a,b\nc,d\r\n", True),
        (b"a,b\r", True),
    ],
)
@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 20])
def test_mixed_line_endings_are_found_across_chunk_seams(tmp_path, monkeypatch, body, mixed, chunk):
    from ingest.twcs import csv_file

    monkeypatch.setattr(csv_file, "_CHUNK", chunk)
    path = tmp_path / "endings.csv"
    path.write_bytes(body)
    assert csv_file.scan(path).mixed_line_endings is mixed
