import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def da_home(tmp_path_factory):
    """A data-agent home shared by the tests of one session (student cache, eval cache)."""
    home = Path(os.environ.get("DATA_AGENT_TEST_HOME") or tmp_path_factory.mktemp("da-home"))
    os.environ["DATA_AGENT_HOME"] = str(home)
    return home


@pytest.fixture
def science_copy(tmp_path):
    """A writable copy of the science pack."""
    dst = tmp_path / "science"
    shutil.copytree(ROOT / "domains" / "science", dst)
    return dst
