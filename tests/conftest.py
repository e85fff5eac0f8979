"""Shared fixtures."""

import pytest

from rxlab.views.notebooks import execute

_executed = {}


@pytest.fixture(scope="session")
def executed_notebook():
    """``executed_notebook(path)``: the notebook run once per session in quick mode (test_notebooks
    checks its numbers, test_report renders it)."""
    def get(path):
        if path not in _executed:
            _executed[path] = execute(path, quick=True)
        return _executed[path]
    return get
