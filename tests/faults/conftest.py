"""The fault room: each test breaks the world on purpose (colliding names, a truncated
page, a poison record, a page too big, a missing account) and checks that nothing is lost
in silence. No network: the sources are in-process page lists or the simulator. The
`landing` and `con` fixtures come from tests/conftest.py."""
