"""The taxonomy shipped as package data, `.gz` taxonomy files, and `--locale` / `--bundled`
of `mercato taxonomy load`. These run without ../shared/data: the files they read are
made here."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mercato.cli import app as cli
from mercato.modules.channels import bundled_taxonomy, read_taxonomy_file
from mercato.modules.channels.taxonomy.cli import locale_url
from mercato.modules.channels.taxonomy.store import count_categories

SMALL = """# Google_Product_Taxonomy_Version: 2099-01-01
1 - Animals & Pet Supplies
3237 - Animals & Pet Supplies > Live Animals
8 - Arts & Entertainment
5710 - Arts & Entertainment > Hobbies & Creative Arts
499969 - Arts & Entertainment > Hobbies & Creative Arts > Arts & Crafts
"""
GOOGLE_URL = "https://www.google.com/basepages/producttype/taxonomy-with-ids.en-US.txt"


def test_a_gzip_taxonomy_reads_like_the_plain_file(tmp_path: Path) -> None:
    plain = tmp_path / "taxonomy.txt"
    plain.write_text(SMALL)
    packed = tmp_path / "taxonomy.txt.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert list(read_taxonomy_file(packed)) == list(read_taxonomy_file(plain))
    assert count_categories(packed) == 5
    [*_, leaf] = read_taxonomy_file(packed)
    assert (leaf.id, leaf.parent_id, leaf.level, leaf.version) == (499969, 5710, 3, "2099-01-01")


def test_another_locale_is_googles_file_for_it() -> None:
    assert locale_url(GOOGLE_URL, "de-DE").endswith("/taxonomy-with-ids.de-DE.txt")
    assert locale_url(GOOGLE_URL, "en-US") == GOOGLE_URL
    with pytest.raises(typer.BadParameter):
        locale_url(GOOGLE_URL, "../../etc")


def test_the_shipped_taxonomy_or_a_clear_refusal() -> None:
    """A build with the package data parses as Google's file; one without says so."""
    with bundled_taxonomy() as shipped:
        if shipped is not None:
            categories = list(read_taxonomy_file(shipped))
            assert len(categories) > 5000
            assert {c.name for c in categories if c.level == 1} >= {"Animals & Pet Supplies"}
            return
    result = CliRunner().invoke(cli, ["taxonomy", "load", "--bundled"])
    assert result.exit_code == 2
    assert "ships no taxonomy" in result.output


async def test_one_source_at_a_time() -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["taxonomy", "load", "--bundled", "--locale", "de-DE"]
    )
    assert result.exit_code == 2
    assert "one of FILE, --url, --locale or --bundled" in result.output
