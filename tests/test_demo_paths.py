"""The demo finds the shared data files beside the repository (`../shared/data`)."""

from __future__ import annotations

from pathlib import Path

from mercato.demo.channels import TAXONOMY_FILE

REPOSITORY = Path(__file__).resolve().parents[1]


def test_the_demo_taxonomy_is_read_from_the_shared_data_folder() -> None:
    assert TAXONOMY_FILE.parent == REPOSITORY.parent / "shared" / "data"
