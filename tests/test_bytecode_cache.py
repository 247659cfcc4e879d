"""The worker keeps the bytecode of what its workflow sandbox re-imports for every run."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

from stack.settings import Settings
from stack.workers import cache_bytecode


@pytest.fixture
def restored_sys():
    prefix, dont_write = sys.pycache_prefix, sys.dont_write_bytecode
    yield
    sys.pycache_prefix, sys.dont_write_bytecode = prefix, dont_write


def test_bytecode_goes_to_the_configured_cache_not_beside_the_sources(tmp_path: Path, restored_sys):
    where = cache_bytecode(dataclasses.replace(Settings(), pycache_dir=str(tmp_path / "pyc")))
    assert where == tmp_path / "pyc" and where.is_dir()
    assert sys.pycache_prefix == str(where) and not sys.dont_write_bytecode
    source = Path(__file__).resolve().parent.parent / "workflows" / "appeal" / "supervisor.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    assert cached.is_relative_to(where)  # what the sandbox's imports read and write


def test_the_default_is_the_data_directory_and_off_switches_it_off(tmp_path: Path, restored_sys):
    assert cache_bytecode(dataclasses.replace(Settings(), data_dir=tmp_path, pycache_dir=None)) == tmp_path / "pycache"
    sys.pycache_prefix, sys.dont_write_bytecode = None, True
    assert cache_bytecode(dataclasses.replace(Settings(), pycache_dir="off")) is None
    assert sys.pycache_prefix is None and sys.dont_write_bytecode
