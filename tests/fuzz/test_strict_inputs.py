"""Inputs the fuzzer found accepted against their schema: a 0 for a boolean, false for a
number. JSON Schema says those are the wrong type, so the API refuses them (422) instead
of coercing them the way pydantic's lax mode would."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from mercato.modules.channels.schemas import MerchantLinkWrite
from mercato.modules.experiments.schemas import ExperimentCreate, ExperimentUpdate
from mercato.modules.profile.schemas import Geo, SpecialHours
from mercato.modules.widgets.schemas import Theme, WidgetWrite

EXPERIMENT = (
    '{"name": "0", "placement": "0", "control_strategy": "collaborative", '
    '"variant_strategy": "collaborative", "traffic_split": 0, "metric": "ctr"'
)
LINK = '{"content_language": "en", "data_source_id": "0", "feed_label": "0"'


@pytest.mark.parametrize(
    ("model", "wrong", "right"),
    [
        (
            ExperimentCreate,
            EXPERIMENT + ', "sequential": 0}',
            EXPERIMENT + ', "sequential": false}',
        ),
        (ExperimentUpdate, '{"sequential": 1}', '{"sequential": true}'),
        (ExperimentUpdate, '{"traffic_split": true}', '{"traffic_split": 50}'),
        (MerchantLinkWrite, LINK + ', "daily_push": 0}', LINK + ', "daily_push": false}'),
        (Geo, '{"lat": 0.0, "lon": false}', '{"lat": 0.0, "lon": 13}'),
        (Theme, '{"border_radius": false}', '{"border_radius": 4}'),
        (WidgetWrite, '{"show_price": 0}', '{"show_price": false}'),
        (WidgetWrite, '{"columns": true}', '{"columns": 3}'),
        (
            SpecialHours,
            '{"date": "2026-12-24", "closed": 1}',
            '{"date": "2026-12-24", "closed": true}',
        ),
        (SpecialHours, '{"date": 0}', '{"date": "2026-12-24"}'),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused(
    model: type[BaseModel], wrong: str, right: str
) -> None:
    with pytest.raises(ValidationError):
        model.model_validate_json(wrong)
    model.model_validate_json(right)


def test_digits_outside_ascii_are_not_numbers_anywhere_they_are_read_as_numbers() -> None:
    from mercato.kernel.signatures import sign, verify
    from mercato.modules.catalog.gtin import is_valid_gtin

    assert not is_valid_gtin("400638133393²")
    assert is_valid_gtin("4006381333931")
    body = b"{}"
    good = sign("s3cret", body, timestamp=1_700_000_000)
    assert verify("s3cret", good, body, now=1_700_000_000)
    assert not verify("s3cret", "t=²,v1=00", body, now=1_700_000_000)
