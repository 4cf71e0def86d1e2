"""The reader model's logistic regression (numpy, no scikit-learn in the send path's workers)
gives scikit-learn's answer."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from subscribers.learning import fit_logistic


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_fits_what_scikit_learn_fits(seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((40, 300)) < 0.05).astype(float)  # sparse binary stems, more stems than papers
    y = (rng.random(40) < 0.3).astype(int)
    sample_weight = rng.choice([1.0, 0.3, 0.5], size=40)
    coef, intercept = fit_logistic(x, y, sample_weight)
    reference = LogisticRegression(
        C=1.0, class_weight="balanced", solver="newton-cholesky", max_iter=500, tol=1e-12
    )
    reference.fit(x, y, sample_weight=sample_weight)
    assert np.allclose(coef, reference.coef_[0], atol=1e-6)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-6)
