"""Evaluation tests never write into the user's cache: factor classifiers fitted by vlae-eval go to a
temporary folder for the session (``factor_classifier.CACHE_ENV``)."""

import pytest

from vlae_tf.evaluation import factor_classifier


@pytest.fixture(autouse=True, scope="session")
def _private_classifier_cache(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv(factor_classifier.CACHE_ENV, str(tmp_path_factory.mktemp("vlae_tf_cache")))
    yield
    patch.undo()
