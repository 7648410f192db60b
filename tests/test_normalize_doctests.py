"""The docstring examples of the normalization modules are true."""

import doctest
import importlib

import pytest

MODULES = ["vocab", "degrees", "names", "specialties", "places", "schools", "npi"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"pipeline.normalize.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
