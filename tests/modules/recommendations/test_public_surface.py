from __future__ import annotations

import subprocess
import sys

import pytest

import mercato.modules.recommendations as recommendations


def test_importing_the_package_does_not_load_the_numeric_stack() -> None:
    probe = (
        "import sys, mercato.cli, mercato.modules.recommendations; "
        "print(sorted({'numpy', 'scipy', 'implicit'} & set(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize("name", recommendations.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(recommendations, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'fit_everything'"):
        _ = recommendations.fit_everything
