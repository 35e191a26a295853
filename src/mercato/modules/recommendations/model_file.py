"""Fitted models as plain numpy arrays in one `.npz` file, never pickle.

Another process (an API worker) loads what a job fitted; `allow_pickle=False` means a
model file can only ever hold arrays, so loading one cannot run code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

Arrays = dict[str, NDArray[Any]]


def pack_csr(prefix: str, matrix: sp.csr_matrix) -> Arrays:
    """A CSR matrix as four arrays under `prefix`."""
    return {
        f"{prefix}.data": matrix.data,
        f"{prefix}.indices": matrix.indices,
        f"{prefix}.indptr": matrix.indptr,
        f"{prefix}.shape": np.asarray(matrix.shape, dtype=np.int64),
    }


def unpack_csr(arrays: Mapping[str, NDArray[Any]], prefix: str) -> sp.csr_matrix:
    rows, columns = (int(size) for size in arrays[f"{prefix}.shape"])
    return sp.csr_matrix(
        (arrays[f"{prefix}.data"], arrays[f"{prefix}.indices"], arrays[f"{prefix}.indptr"]),
        shape=(rows, columns),
    )


def pack_settings(prefix: str, settings: object) -> Arrays:
    """A settings dataclass as a JSON string array, so query-time knobs travel too."""
    if not is_dataclass(settings) or isinstance(settings, type):
        raise TypeError("settings must be a dataclass instance")
    return {f"{prefix}.settings": np.array(json.dumps(asdict(settings)))}


def unpack_settings(arrays: Mapping[str, NDArray[Any]], prefix: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(str(arrays[f"{prefix}.settings"]))
    return loaded


def save_arrays(path: Path, arrays: Mapping[str, NDArray[Any]]) -> None:
    """Write atomically: a reader never sees a half-written model."""
    pickled = [name for name, array in arrays.items() if array.dtype.hasobject]
    if pickled:
        raise TypeError(f"object arrays would need pickle: {', '.join(pickled)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    named: dict[str, Any] = dict(arrays)
    with partial.open("wb") as handle:
        np.savez_compressed(handle, **named)
    partial.replace(path)


def load_arrays(path: Path) -> Arrays:
    with np.load(path, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}
