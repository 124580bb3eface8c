"""[core] hostname_callable of the scale test's Celery workers: two "machines" share this
host, so each names itself from its environment, and the metadata DB shows which ran what."""

import os


def from_environment() -> str:
    return os.environ["SILOSCOPE_TEST_WORKER_HOSTNAME"]
