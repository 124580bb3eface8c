"""The simulated X source: determinism, X API v2 page shape, filtering, paging, and the
planted structures, checked from the generated posts alone (no network)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from typing import Any

import pytest

from ingest.pages import ExtractRequest, ExtractResult, PageSource
from ingest.simulated import (
    ENDPOINTS,
    PAGE_SIZE,
    SimulatedWorld,
    SimulatedXSource,
    generate_posts,
    user_id_for_handle,
)
from siloscope.config import OrgConfig

START = date(2026, 10, 5)
DAYS = 28
END = START + timedelta(days=DAYS - 1)
X_EPOCH_MS = 1288834974657
CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")

DEPARTMENTS = {
    "Customer Care": "AcmeHelp",
    "Marketing": "Acme",
    "Sales": "AcmeSales",
    "HR": "AcmeCareers",
    "Innovation": "AcmeLabs",
}


def make_config(
    structure: str = "glued", departments: dict[str, str] | None = None, **simulation: Any
) -> OrgConfig:
    departments = DEPARTMENTS if departments is None else departments
    settings: dict[str, Any] = {"structure": structure, "seed": 7}
    if structure == "glued":
        settings["glue_department"] = "Customer Care"
    settings.update(simulation)
    return OrgConfig.model_validate(
        {
            "organization": "Acme",
            "departments": [
                {"name": name, "accounts": {"x": [handle]}} for name, handle in departments.items()
            ],
            "ignore_accounts": {"x": ["AcmeStatusBot"]},
            "sources": {"x": "simulated"},
            "simulation": settings,
        }
    )


def department_of(config: OrgConfig) -> dict[str, str]:
    return {
        user_id_for_handle(handle): department.name
        for department in config.departments
        for handle in department.accounts.x
    }


def utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def collect(source: PageSource, request: ExtractRequest) -> tuple[list[Any], ExtractResult]:
    result = ExtractResult()
    pages = list(source.pages(request, result))
    return pages, result


def request_for(
    account: str, start: date, end: date, strategy: str = "bounded", **since_ids: str
) -> ExtractRequest:
    return ExtractRequest(
        platform="x",
        account=account,
        backfill_start=utc(start),
        until=utc(end),
        since_ids=since_ids,
        read_strategy=strategy,
    )


def conversations_of(
    posts: list[dict[str, Any]], config: OrgConfig, window: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    """Customer conversations (docs/metrics.md) with their departments, ordered by root id."""
    org = department_of(config)
    bot = user_id_for_handle("AcmeStatusBot")
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for post in posts:
        if window is None or window[0] <= post["created_at"] < window[1]:
            grouped[post["conversation_id"]].append(post)
    conversations: list[dict[str, Any]] = []
    for conversation_id, messages in grouped.items():
        customers = {p["author_id"] for p in messages if p["author_id"] not in org} - {bot}
        if not customers:
            continue
        departments = {org[p["author_id"]] for p in messages if p["author_id"] in org}
        conversations.append(
            {
                "id": conversation_id,
                "customers": customers,
                "departments": departments,
                "messages": messages,
            }
        )
    conversations.sort(key=lambda c: int(c["id"]))
    return conversations


def verdict(
    posts: list[dict[str, Any]], config: OrgConfig, window: tuple[str, str]
) -> tuple[str, str | None]:
    """marts.org_verdict's verdict and glue_department, as docs/metrics.md defines them."""
    engaged = [c for c in conversations_of(posts, config, window) if c["departments"]]
    thresholds = config.thresholds
    if len(engaged) < thresholds.min_conversations:
        return "insufficient_data", None
    cross = [c for c in engaged if len(c["departments"]) >= 2]
    scores = {}
    for department in config.department_names():
        shared = [c for c in cross if department in c["departments"]]
        partners = set().union(*(c["departments"] for c in shared)) - {department}
        bridging = len(shared) / len(cross) if cross else 0.0
        scores[department] = bridging if len(partners) >= 2 else 0.0
    best = max(scores.values())
    glue = None
    if best >= thresholds.glue_threshold and list(scores.values()).count(best) == 1:
        glue = max(scores, key=lambda d: scores[d])
    if len(cross) / len(engaged) < thresholds.silo_threshold:
        return "siloed", glue
    return ("glued", glue) if glue else ("networked", None)


@pytest.fixture(scope="module")
def glued() -> OrgConfig:
    return make_config("glued")


@pytest.fixture(scope="module")
def glued_posts(glued: OrgConfig) -> list[dict[str, Any]]:
    return generate_posts(glued.for_simulation(), START, END)


@pytest.fixture(scope="module")
def busy_posts() -> list[dict[str, Any]]:
    """One day at 3,000 conversations: threads squeezed before midnight, shared seconds."""
    return generate_posts(
        make_config("networked", conversations_per_day=3000).for_simulation(), END, END
    )


# --- determinism


def test_generation_is_deterministic(glued: OrgConfig, glued_posts: list[dict[str, Any]]) -> None:
    again = generate_posts(glued.for_simulation(), START, END)
    assert json.dumps(again) == json.dumps(glued_posts)


def test_a_day_is_the_same_alone_or_in_a_range(glued: OrgConfig) -> None:
    day = START + timedelta(days=3)
    alone = generate_posts(glued.for_simulation(), day, day)
    in_range = generate_posts(glued.for_simulation(), START, END)
    own = {post["conversation_id"] for post in alone}
    assert [post for post in in_range if post["conversation_id"] in own] == alone
    roots_that_day = [
        p
        for p in in_range
        if p["id"] == p["conversation_id"] and p["created_at"].startswith(day.isoformat())
    ]
    assert {p["id"] for p in roots_that_day} == own


def test_pages_are_byte_identical_across_sources(glued: OrgConfig) -> None:
    request = request_for("AcmeHelp", START, END)
    first, _ = collect(SimulatedXSource(glued.for_simulation()), request)
    second, _ = collect(SimulatedXSource(glued.for_simulation()), request)
    assert [(p.endpoint, p.body) for p in first] == [(p.endpoint, p.body) for p in second]


def test_seed_and_structure_change_the_conversations(glued: OrgConfig) -> None:
    texts = [p["text"] for p in generate_posts(glued.for_simulation(), START, START)]
    for other in (make_config("glued", seed=8), make_config("networked")):
        assert [p["text"] for p in generate_posts(other.for_simulation(), START, START)] != texts


# --- the posts themselves


@pytest.mark.parametrize("sample", ["glued_posts", "busy_posts"])
def test_ids_are_unique_snowflakes_that_follow_created_at(
    sample: str, request: pytest.FixtureRequest
) -> None:
    posts = request.getfixturevalue(sample)
    ids = [int(p["id"]) for p in posts]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    for post in posts:
        ms = (int(post["id"]) >> 22) + X_EPOCH_MS
        created = datetime.strptime(post["created_at"], "%Y-%m-%dT%H:%M:%S.000Z")
        assert int(created.replace(tzinfo=UTC).timestamp()) == ms // 1000
        assert CREATED_AT.match(post["created_at"])


@pytest.mark.parametrize("sample", ["glued_posts", "busy_posts"])
def test_posts_have_the_v2_shape(sample: str, request: pytest.FixtureRequest) -> None:
    posts = request.getfixturevalue(sample)
    by_id = {p["id"]: p for p in posts}
    for post in posts:
        assert post["lang"] == "en"
        assert post["edit_history_tweet_ids"] == [post["id"]]
        assert post["author_id"].isdigit()
        if post["id"] == post["conversation_id"]:
            assert "referenced_tweets" not in post and "in_reply_to_user_id" not in post
            continue
        (reference,) = post["referenced_tweets"]
        assert reference["type"] == "replied_to"
        parent = by_id[reference["id"]]
        assert post["in_reply_to_user_id"] == parent["author_id"]
        assert post["conversation_id"] == parent["conversation_id"]
        assert post["created_at"] >= parent["created_at"] and int(post["id"]) > int(parent["id"])


@pytest.mark.parametrize("sample", ["glued_posts", "busy_posts"])
def test_mentions_list_every_handle_with_offsets(
    sample: str, request: pytest.FixtureRequest
) -> None:
    for post in request.getfixturevalue(sample):
        mentions = post.get("entities", {}).get("mentions", [])
        assert "entities" not in post or mentions
        for mention in mentions:
            assert post["text"][mention["start"] : mention["end"]] == "@" + mention["username"]
        assert [m["username"] for m in mentions] == MENTION.findall(post["text"])


def test_customers_recur_and_meet_several_departments(
    glued: OrgConfig, glued_posts: list[dict[str, Any]]
) -> None:
    conversations = conversations_of(glued_posts, glued)
    departments_of_customer: dict[str, set[str]] = defaultdict(set)
    for conversation in conversations:
        for customer in conversation["customers"]:
            departments_of_customer[customer] |= conversation["departments"]
    assert len(departments_of_customer) < len(conversations)
    assert sum(len(d) >= 2 for d in departments_of_customer.values()) >= 20
    bot = user_id_for_handle("AcmeStatusBot")
    assert any(p["author_id"] == bot for p in glued_posts)
    unanswered = [c for c in conversations if not c["departments"]]
    assert 0.07 <= len(unanswered) / len(conversations) <= 0.13
    org = department_of(glued)
    assert any(c["messages"][0]["author_id"] in org for c in conversations)  # org-started


def test_handoffs_mention_the_other_department_on_the_start_day(
    glued: OrgConfig, glued_posts: list[dict[str, Any]], busy_posts: list[dict[str, Any]]
) -> None:
    org = department_of(glued)
    busy_day = make_config("networked", conversations_per_day=3000)
    for config, posts in ((glued, glued_posts), (busy_day, busy_posts)):
        for conversation in conversations_of(posts, config):
            if len(conversation["departments"]) < 2:
                continue
            org_messages = [p for p in conversation["messages"] if p["author_id"] in org]
            first, later = org[org_messages[0]["author_id"]], org[org_messages[-1]["author_id"]]
            assert first != later
            referral_targets = {
                org[m["id"]]
                for p in org_messages
                for m in p.get("entities", {}).get("mentions", [])
                if m["id"] in org
            }
            assert later in referral_targets
            # The documented guarantee behind exact verdicts on midnight-bounded windows:
            # the handoff happens on the start day and the referrer then falls silent.
            handoff = next(p for p in org_messages if org[p["author_id"]] == later)
            day = conversation["messages"][0]["created_at"][:10]
            assert handoff["created_at"][:10] == day
            after_handoff = [p for p in org_messages if int(p["id"]) > int(handoff["id"])]
            assert all(org[p["author_id"]] == later for p in after_handoff)


# --- pages


@pytest.mark.parametrize("strategy", ["bounded", "rescan"])
def test_pages_have_the_api_envelope(glued: OrgConfig, strategy: str) -> None:
    request = request_for("AcmeHelp", START, END, strategy)
    pages, result = collect(SimulatedXSource(glued.for_simulation()), request)
    # "rescan" expands every author on its pages: it has none to look up
    looked_up = {"authors"} if strategy == "bounded" else set()
    assert {p.endpoint for p in pages} == {"mentions", "tweets", "threads"} | looked_up
    assert set(ENDPOINTS) == {"mentions", "tweets", "threads", "authors"}
    assert result.requests == len(pages) + 1  # and the user lookup, as the live source
    # a 28-day backfill reaches past the 7 days recent search covers; threads of
    # conversations started before them are partial
    assert {c.split(";")[0] for c in result.ceilings} == {"threads: recent search covers 7 days"}
    assert any("backfill start" in c for c in result.ceilings)
    by_endpoint: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in pages:
        body = json.loads(page.body)
        if page.endpoint == "threads" and body == {"meta": {"result_count": 0}}:
            continue  # a search of conversations whose posts are all older than 7 days
        by_endpoint[page.endpoint].append(body)
        if page.endpoint == "authors":  # GET /2/tweets?ids=: one post of each, no meta
            assert list(body) == ["data", "includes"]
            assert {u["id"] for u in body["includes"]["users"]} == {
                post["author_id"] for post in body["data"]
            }
            continue
        assert list(body) == ["data", "includes", "meta"]
        data, meta = body["data"], body["meta"]
        assert 0 < len(data) <= PAGE_SIZE
        assert meta["result_count"] == len(data)
        assert meta["newest_id"] == data[0]["id"] and meta["oldest_id"] == data[-1]["id"]
        assert [int(p["id"]) for p in data] == sorted((int(p["id"]) for p in data), reverse=True)
        users = {u["id"]: u for u in body["includes"]["users"]}
        assert all(list(u) == ["id", "name", "username"] for u in users.values())
        if strategy == "bounded":
            assert users == {}  # authors not stored yet are looked up at the end, once
        else:
            assert {post["author_id"] for post in data} <= set(users)
        for post in data if strategy == "rescan" else []:
            for mention in post.get("entities", {}).get("mentions", []):
                assert users[mention["id"]]["username"] == mention["username"]
    for endpoint, bodies in by_endpoint.items():
        if endpoint not in ("threads", "authors"):  # threads: one pagination per search
            assert all("next_token" in b["meta"] for b in bodies[:-1]), endpoint
            assert "next_token" not in bodies[-1]["meta"], endpoint
            assert result.watermarks[endpoint] == bodies[0]["meta"]["newest_id"]
        counts = result.endpoints[endpoint]
        posts = sum(len(b["data"]) for b in bodies)
        users = sum(len(b["includes"]["users"]) for b in bodies)
        answered = sum(page.endpoint == endpoint for page in pages)
        assert (counts.requests, counts.pages, counts.posts) == (answered, answered, posts)
        assert counts.users == users
    # X bills each post and user once a day: the run's pages, deduplicated
    every = [body for bodies in by_endpoint.values() for body in bodies]
    distinct_posts = {post["id"] for body in every for post in body["data"]}
    distinct_users = {user["id"] for body in every for user in body["includes"]["users"]}
    distinct_users.add(user_id_for_handle("AcmeHelp"))  # the user lookup
    assert {post["author_id"] for body in every for post in body["data"]} <= distinct_users
    billed = sum(counts.billable_reads for counts in result.endpoints.values())
    assert billed == len(distinct_posts) + len(distinct_users)
    assert billed < sum(c.posts + c.users for c in result.endpoints.values())


def served(pages: list[Any], endpoint: str) -> list[dict[str, Any]]:
    return [
        post
        for page in pages
        if page.endpoint == endpoint
        for post in json.loads(page.body).get("data", [])
    ]


def test_endpoints_serve_exactly_the_accounts_posts_across_pages(
    glued: OrgConfig, glued_posts: list[dict[str, Any]]
) -> None:
    account_id = user_id_for_handle("AcmeHelp")
    start, until = START + timedelta(days=3), END - timedelta(days=1)
    window = (start.isoformat(), until.isoformat())
    # recent search reaches 7 days back from the simulated clock (the night's end)
    searchable = (until - timedelta(days=7)).isoformat() + "T00:30:00.000Z"
    pages, _ = collect(
        SimulatedXSource(glued.for_simulation()), request_for("@acmehelp", start, until)
    )

    def in_window(post: dict[str, Any]) -> bool:
        return window[0] <= post["created_at"] < window[1]

    def mentions_account(post: dict[str, Any]) -> bool:
        return any(m["id"] == account_id for m in post.get("entities", {}).get("mentions", []))

    expected = {
        "mentions": [
            p for p in glued_posts if p["author_id"] != account_id and mentions_account(p)
        ],
        "tweets": [p for p in glued_posts if p["author_id"] == account_id],
    }
    seen = {p["conversation_id"] for posts in expected.values() for p in posts if in_window(p)}
    for endpoint, posts in expected.items():
        want = sorted((p for p in posts if in_window(p)), key=lambda p: -int(p["id"]))
        got = served(pages, endpoint)
        assert got == want, endpoint
    # threads: every conversation seen tonight, once, as far back as search reaches
    want_threads = {
        p["id"]
        for p in glued_posts
        if p["conversation_id"] in seen and searchable <= p["created_at"] < window[1]
    }
    got_threads = [p["id"] for p in served(pages, "threads")]
    assert sorted(got_threads) == sorted(want_threads)
    assert sum(p.endpoint == "threads" for p in pages) >= 3


def test_since_id_and_until_filter_and_resume_without_gaps(glued: OrgConfig) -> None:
    source = SimulatedXSource(glued.for_simulation())
    middle = START + timedelta(days=10)
    first, first_result = collect(source, request_for("AcmeSales", START, middle))
    second, second_result = collect(
        source, request_for("AcmeSales", START, END, **first_result.watermarks)
    )
    whole, _ = collect(source, request_for("AcmeSales", START, END))
    for endpoint in ("mentions", "tweets"):
        since = int(first_result.watermarks[endpoint])
        early, late = served(first, endpoint), served(second, endpoint)
        assert all(p["created_at"] < middle.isoformat() for p in early)
        assert late and all(int(p["id"]) > since for p in late)
        assert late + early == served(whole, endpoint)
        assert second_result.watermarks[endpoint] == late[0]["id"]


def test_nothing_new_is_one_empty_page_and_keeps_the_watermark(glued: OrgConfig) -> None:
    source = SimulatedXSource(glued.for_simulation())
    _, result = collect(source, request_for("AcmeLabs", START, END))
    pages, again = collect(source, request_for("AcmeLabs", START, END, **result.watermarks))
    # no new mention or post: no conversation to search
    assert [p.endpoint for p in pages] == ["mentions", "tweets"]
    assert all(p.body == b'{"meta":{"result_count":0}}' for p in pages)
    assert again.watermarks == result.watermarks and again.requests == 3  # with the lookup
    empty, fresh = collect(source, request_for("AcmeLabs", END, END))
    assert len(empty) == 2 and fresh.watermarks == {}


def test_requests_for_other_platforms_or_accounts_are_refused(glued: OrgConfig) -> None:
    source = SimulatedXSource(glued.for_simulation())
    assert source.platform == "x"
    with pytest.raises(ValueError, match="not a configured X account"):
        source.pages(request_for("SomeoneElse", START, END), ExtractResult())
    with pytest.raises(ValueError, match="platform"):
        source.pages(
            ExtractRequest(
                platform="reddit", account="AcmeHelp", until=utc(END), backfill_start=utc(START)
            ),
            ExtractResult(),
        )


# --- planted structures


def cross_conversations(config: OrgConfig) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    engaged = [
        c
        for c in conversations_of(generate_posts(config.for_simulation(), START, END), config)
        if c["departments"]
    ]
    return engaged, [c for c in engaged if len(c["departments"]) >= 2]


def test_siloed_co_handles_every_50th_handled_conversation() -> None:
    engaged, cross = cross_conversations(make_config("siloed"))
    # Exactly every 50th: 2% of engaged conversations, +- one conversation where the
    # range starts or ends inside a run of 50.
    assert abs(len(cross) / len(engaged) - 0.02) <= 1 / len(engaged)
    positions = [i for i, c in enumerate(engaged) if len(c["departments"]) >= 2]
    assert len(positions) >= 5
    assert {b - a for a, b in zip(positions, positions[1:], strict=False)} == {50}
    assert all(len(c["departments"]) == 2 for c in cross)


def test_glued_cross_conversations_all_include_the_glue() -> None:
    config = make_config("glued")
    engaged, cross = cross_conversations(config)
    assert 0.3 <= len(cross) / len(engaged) <= 0.4
    partners: dict[str, set[str]] = defaultdict(set)
    for conversation in cross:
        assert len(conversation["departments"]) == 2
        assert "Customer Care" in conversation["departments"]
        for department in conversation["departments"]:
            partners[department] |= conversation["departments"] - {department}
    assert partners["Customer Care"] == set(DEPARTMENTS) - {"Customer Care"}
    for department in set(DEPARTMENTS) - {"Customer Care"}:
        assert partners[department] == {"Customer Care"}


def test_networked_cross_conversations_share_departments_equally() -> None:
    config = make_config("networked")
    engaged, cross = cross_conversations(config)
    assert 0.3 <= len(cross) / len(engaged) <= 0.4
    pairs = [tuple(sorted(c["departments"])) for c in cross]
    assert all(len(pair) == 2 for pair in pairs)
    cycle = len(list(combinations(DEPARTMENTS, 2)))
    # Round-robin through all pairs: the sequence repeats every `cycle` conversations and
    # each cycle has every pair once, so over whole cycles every department's share of
    # cross-department conversations is exactly 2/n.
    assert all(pairs[i] == pairs[i + cycle] for i in range(len(pairs) - cycle))
    assert len(set(pairs[:cycle])) == cycle
    whole_cycles = pairs[: len(pairs) // cycle * cycle]
    counts = {d: sum(d in pair for pair in whole_cycles) for d in DEPARTMENTS}
    assert set(counts.values()) == {len(whole_cycles) * 2 // len(DEPARTMENTS)}


@pytest.mark.parametrize("structure", ["siloed", "glued", "networked"])
def test_the_metrics_verdict_finds_the_planted_structure(structure: str) -> None:
    config = make_config(structure)
    posts = generate_posts(
        config.for_simulation(), START - timedelta(days=3), START + timedelta(days=45)
    )
    expected = (structure, "Customer Care" if structure == "glued" else None)
    for days in (7, 28):
        for offset in range(0, 45 - days + 1):
            low = START + timedelta(days=offset)
            window = (low.isoformat(), (low + timedelta(days=days)).isoformat())
            found = verdict(posts, config, window)
            assert found[0] == expected[0], (window, found)
            if structure == "glued":
                assert found[1] == "Customer Care", (window, found)


def test_glued_without_glue_department_is_refused() -> None:
    with pytest.raises(ValueError, match="glue_department"):
        SimulatedXSource(make_config("glued", glue_department=None).for_simulation())


def test_glued_needs_three_departments_on_x() -> None:
    two = {"Customer Care": "AcmeHelp", "Sales": "AcmeSales"}
    with pytest.raises(ValueError, match="at least 3 departments"):
        SimulatedXSource(make_config("glued", departments=two).for_simulation())


def test_networked_needs_five_departments_on_x() -> None:
    four = dict(list(DEPARTMENTS.items())[:4])
    with pytest.raises(ValueError, match="at least 5 departments"):
        SimulatedXSource(make_config("networked", departments=four).for_simulation())
    with pytest.raises(ValueError, match="at least 5 departments"):
        generate_posts(make_config("networked", departments=four).for_simulation(), START, START)


def test_departments_without_x_accounts_take_no_part() -> None:
    config = OrgConfig.model_validate(
        {
            "organization": "Acme",
            "departments": [
                *({"name": n, "accounts": {"x": [h]}} for n, h in DEPARTMENTS.items()),
                {"name": "Legal", "accounts": {"reddit": ["AcmeLegal"]}},
            ],
            "simulation": {"structure": "networked"},
        }
    )
    world = SimulatedWorld(config.for_simulation())
    assert "Legal" not in world.population.departments
    assert generate_posts(config.for_simulation(), START, START)
