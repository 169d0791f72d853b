"""NB-LR and NB-SVM (Wang & Manning 2012): the strong linear detector of machine-written text.

Binary word n-grams (1-2) and character n-grams (2-4, within word boundaries) of each review,
scaled by the naive-Bayes log-count ratio r = log((p / |p|_1) / (q / |q|_1)) with p, q the
alpha-smoothed feature counts of the two classes; then logistic regression (NB-LR) or a linear SVM
whose weights are interpolated towards their mean magnitude, w' = (1 - beta) mean|w| + beta w
(NB-SVM, beta = 0.25 as the paper). Higher score: more likely machine-written (label 1).
scikit-learn, on word lists joined by spaces.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

KINDS = ("nblr", "nbsvm")


class NBDetector:
    """`fit(sentences, labels)` (labels 1 = machine-written), then `score(sentences)`."""

    def __init__(self, kind: str = "nblr", alpha: float = 1.0, c: float = 1.0, beta: float = 0.25,
                 chars: bool = True):
        if kind not in KINDS:
            raise ValueError(f"detector kind {kind!r} is unknown; choose one of {', '.join(KINDS)}")
        self.kind, self.alpha, self.c, self.beta = kind, alpha, c, beta
        self.vectorizers = [CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=r"\S+",
                                            lowercase=False)]
        if chars:
            self.vectorizers.append(CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), binary=True,
                                                    lowercase=False))

    def features(self, sentences: Sequence[Sequence[str]], fit: bool = False) -> sp.csr_matrix:
        docs = [" ".join(s) for s in sentences]
        parts = [v.fit_transform(docs) if fit else v.transform(docs) for v in self.vectorizers]
        return sp.hstack(parts).tocsr().astype(np.float64)

    def fit(self, sentences: Sequence[Sequence[str]], labels, validation=None) -> NBDetector:
        """validation: accepted for the detectors' common signature, unused (nothing to stop
        early: C and beta are the paper's)."""
        del validation
        labels = np.asarray(labels)
        if set(np.unique(labels)) != {0, 1}:
            raise ValueError(f"an NB detector learns two classes, 0 (real) and 1 (machine-written); "
                             f"got labels {sorted(set(labels.tolist()))}")
        x = self.features(sentences, fit=True)
        p = self.alpha + np.asarray(x[labels == 1].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(x[labels == 0].sum(axis=0)).ravel()
        self.ratio = np.log((p / p.sum()) / (q / q.sum()))
        xr = x.multiply(self.ratio).tocsr()
        if self.kind == "nblr":
            self.model = LogisticRegression(C=self.c, max_iter=2000).fit(xr, labels)
            self.w, self.b = self.model.coef_[0], self.model.intercept_[0]
        else:
            self.model = LinearSVC(C=self.c, max_iter=5000).fit(xr, labels)
            w, self.b = self.model.coef_[0], self.model.intercept_[0]
            self.w = (1 - self.beta) * np.abs(w).mean() + self.beta * w
        return self

    def score(self, sentences: Sequence[Sequence[str]]) -> np.ndarray:
        """[n] scores: higher = more likely machine-written."""
        return self.features(sentences).multiply(self.ratio).tocsr() @ self.w + self.b
