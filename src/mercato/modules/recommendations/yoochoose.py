"""The YooChoose (RecSys Challenge 2015) click sample, read as tracking events.

Each click becomes a `view_item` event of an anonymous visitor whose visitor id is the
session id, exactly what the tracking API stores for a shopper who never logs in, so the
evaluation goes through the same dataset builder as the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mercato.modules.recommendations.event_log import EventLog

TRAIN_FILE = "yoochoose-clicks-100k_train_full.txt"
TEST_FILE = "yoochoose-clicks-100k_test.txt"


class YoochooseFilesNotFoundError(FileNotFoundError):
    """The sample's train/test pair is not where the caller said."""


@dataclass(frozen=True)
class YoochooseSample:
    train: EventLog
    test: EventLog


def read_clicks(path: Path) -> EventLog:
    """One tab-separated click file (`SessionId ItemId Time`, header line) as events."""
    columns = np.loadtxt(
        path, delimiter="\t", skiprows=1, dtype=np.str_, ndmin=2, usecols=(0, 1, 2)
    )
    sessions, items = columns[:, 0], columns[:, 1]
    count = sessions.shape[0]
    return EventLog(
        user_id=sessions,
        session_id=sessions,
        type=np.full(count, "view_item"),
        product_id=items,
        timestamp=columns[:, 2].astype(np.float64),
        order_id=np.full(count, "", dtype="<U1"),
        revenue=np.full(count, np.nan),
    )


def sample_paths(path: Path) -> tuple[Path, Path]:
    """The train and test files from their folder, or from the train file's path."""
    if path.is_dir():
        train, test = path / TRAIN_FILE, path / TEST_FILE
    else:
        train, test = path, path.with_name(path.name.replace("_train_full", "_test"))
    missing = [str(candidate) for candidate in (train, test) if not candidate.is_file()]
    if missing or train == test:
        raise YoochooseFilesNotFoundError(f"YooChoose sample not found: {', '.join(missing)}")
    return train, test


def read_sample(path: Path) -> YoochooseSample:
    train, test = sample_paths(path)
    return YoochooseSample(read_clicks(train), read_clicks(test))
