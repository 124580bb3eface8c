"""The simulated source's output, pinned byte for byte.

The simulator is the demo default and the ground truth of the metric tests, so a change
of its code must not change what it serves: the same seed gives the same pages, release
after release. One day's pages of one account are kept whole (a failure shows the first
differing page); wider samples (every structure, every account, a busy day) are kept as
SHA-256 digests of every page body. Re-pin (`python -m tests.unit.test_simulated_pinned`)
only when a change of the simulated conversations is intended.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from ingest.simulated import SimulatedXSource, generate_posts
from tests.unit.test_simulated import collect, make_config, request_for

PINNED = Path(__file__).parent / "pinned"
PAGES_FILE = PINNED / "simulated_x_pages_AcmeHelp_2026-10-08.jsonl"
DIGESTS_FILE = PINNED / "simulated_x_page_digests.json"
DAY = date(2026, 10, 8)
HANDLES = ("AcmeHelp", "Acme", "AcmeSales", "AcmeCareers", "AcmeLabs")
# name: (structure, extra simulation settings, first day, last day served)
SAMPLES = {
    "siloed-week": ("siloed", {}, date(2026, 10, 5), date(2026, 10, 11)),
    "glued-week": ("glued", {}, date(2026, 10, 5), date(2026, 10, 11)),
    "networked-week": ("networked", {}, date(2026, 10, 5), date(2026, 10, 11)),
}
# A busy day squeezes threads before midnight and makes posts share seconds: its posts
# (every account's, in one list) are pinned, not its pages, to keep the test quick.
BUSY = make_config("networked", conversations_per_day=3000)


def day_pages() -> list[bytes]:
    """AcmeHelp's pages (every endpoint) for the glued day DAY."""
    source = SimulatedXSource(make_config("glued").for_simulation())
    pages, _ = collect(source, request_for("AcmeHelp", DAY, DAY + timedelta(days=1)))
    return [page.endpoint.encode() + b"\t" + page.body for page in pages]


def sample_digest(name: str) -> str:
    structure, settings, first, last = SAMPLES[name]
    source = SimulatedXSource(make_config(structure, **settings).for_simulation())
    digest = hashlib.sha256()
    for handle in HANDLES:
        pages, _ = collect(source, request_for(handle, first, last + timedelta(days=1)))
        for page in pages:
            digest.update(page.endpoint.encode() + b"\0" + page.body + b"\0")
    return digest.hexdigest()


def test_a_days_pages_are_unchanged_byte_for_byte() -> None:
    pinned = PAGES_FILE.read_bytes().splitlines()
    served = day_pages()
    assert len(served) == len(pinned)
    for number, (page, expected) in enumerate(zip(served, pinned, strict=True)):
        assert page == expected, f"page {number} differs from {PAGES_FILE.name}"


def busy_day_digest() -> str:
    posts = generate_posts(BUSY.for_simulation(), DAY, DAY)
    return hashlib.sha256(json.dumps(posts).encode()).hexdigest()


@pytest.mark.parametrize("name", SAMPLES)
def test_every_structure_serves_the_pinned_pages(name: str) -> None:
    assert sample_digest(name) == json.loads(DIGESTS_FILE.read_text())[name]


def test_a_busy_day_generates_the_pinned_posts() -> None:
    assert busy_day_digest() == json.loads(DIGESTS_FILE.read_text())["networked-busy-day"]


def pin() -> None:
    PINNED.mkdir(exist_ok=True)
    PAGES_FILE.write_bytes(b"\n".join(day_pages()) + b"\n")
    digests = {name: sample_digest(name) for name in SAMPLES}
    digests["networked-busy-day"] = busy_day_digest()
    DIGESTS_FILE.write_text(json.dumps(digests, indent=2) + "\n")


if __name__ == "__main__":
    pin()
