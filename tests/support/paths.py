"""Where the project's files are, for tests at any depth of the tests/ tree."""

from pathlib import Path

PROJECT = Path(__file__).parents[2]
TEST_DATA = PROJECT / "tests" / "data"
DEMO = PROJECT / "data" / "demo"
