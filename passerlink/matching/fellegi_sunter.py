"""An unsupervised Fellegi-Sunter model fitted by EM: the model's start before any answer.

Every candidate pair is a vector of comparison levels. EM estimates, per comparison and level,
how likely that level is among links (m) and among non-links (u), and the share of links among
the candidates. A value missing on both sides (level -1) is neutral; missing on one side only is
a level of its own, learnt like any other. Exact name
agreement is adjusted by term frequency afterwards, so a shared "Wahlqvist" weighs more than a
shared "Andersson". Fitting runs on the distinct level patterns with their counts (a few thousand
rows however many pairs), so it takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["FellegiSunter", "tf_adjustment"]


class FellegiSunter:
    """EM over level vectors; ``match_weight`` is log2 of the posterior odds of a link.

    ``top_levels`` seeds m: for each comparison, the level(s) that start out as link-typical.
    ``fixed_labels`` (pair row -> 0/1) are answers: their posterior is clamped during EM.
    """

    def __init__(self, *, max_iter: int = 60, tol: float = 1e-6, pseudocount: float = 0.5,
                 prior: float | None = None) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.pseudocount = pseudocount
        self.prior = prior

    def fit(self, levels: pd.DataFrame, n_levels: Mapping[str, int],
            labels: np.ndarray | None = None) -> FellegiSunter:
        """``levels``: one int column per comparison, -1 = missing, 0..n_levels[c]-1 otherwise."""
        self.columns_ = list(levels.columns)
        self.n_levels_ = {c: int(n_levels[c]) + 2 for c in self.columns_}  # + one-sided missing
        x = self._encode(levels)
        patterns, inverse, counts = _patterns(x)
        counts = counts.astype(np.float64)
        clamp = np.full(len(patterns), np.nan)
        weight_labelled = np.zeros(len(patterns))
        if labels is not None:  # answers: per pattern, the share of labelled pairs that are links
            lab = np.asarray(labels, dtype=np.float64)
            has = ~np.isnan(lab)
            if has.any():
                pos = np.bincount(inverse[has], weights=lab[has], minlength=len(patterns))
                tot = np.bincount(inverse[has], minlength=len(patterns)).astype(np.float64)
                sel = tot > 0
                clamp[sel] = pos[sel] / tot[sel]
                weight_labelled[sel] = tot[sel]
        m, u = {}, {}
        for k, c in enumerate(self.columns_):
            n = self.n_levels_[c]
            col = patterns[:, k]
            freq = np.bincount(col[col >= 0], weights=counts[col >= 0], minlength=n) + 1.0
            u[c] = freq / freq.sum()
            ramp = np.exp(np.linspace(-6.0, 0.0, n - 2))  # links mostly agree: mass on the top levels
            ramp = np.concatenate([ramp, [ramp.mean(), ramp.mean()]])  # one-sided missing: no idea
            m[c] = ramp / ramp.sum()
        lam = self.prior if self.prior is not None else 0.05
        prev = -np.inf
        for _ in range(self.max_iter):
            logbf = np.zeros(len(patterns))
            for k, c in enumerate(self.columns_):
                col = patterns[:, k]
                ok = col >= 0
                logbf[ok] += np.log(m[c][col[ok]]) - np.log(u[c][col[ok]])
            logit = np.log(lam) - np.log1p(-lam) + logbf
            post = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
            lab = ~np.isnan(clamp)
            # a labelled pattern: its labelled pairs take their answer, the rest the posterior
            post_eff = post.copy()
            if lab.any():
                share = np.clip(weight_labelled[lab] / counts[lab], 0, 1)
                post_eff[lab] = share * clamp[lab] + (1 - share) * post[lab]
            wm, wu = post_eff * counts, (1 - post_eff) * counts
            for k, c in enumerate(self.columns_):
                n = self.n_levels_[c]
                col = patterns[:, k]
                ok = col >= 0
                mm = np.bincount(col[ok], weights=wm[ok], minlength=n) + self.pseudocount
                uu = np.bincount(col[ok], weights=wu[ok], minlength=n) + self.pseudocount
                m[c], u[c] = mm / mm.sum(), uu / uu.sum()
            if self.prior is None:
                lam = float(np.clip(wm.sum() / counts.sum(), 1e-6, 1 - 1e-6))
            ll = float(np.sum(counts * np.logaddexp(np.log(lam) + logbf, np.log1p(-lam))))
            if abs(ll - prev) < self.tol * max(1.0, abs(ll)):
                break
            prev = ll
        self.m_, self.u_, self.lambda_ = m, u, lam
        return self

    def _encode(self, levels: pd.DataFrame) -> np.ndarray:
        """Levels as EM slots: 0..n-1 as they are, one-sided missing (-3, -2) as two extra slots
        (a value on one side only says something: an M5 user with an employee number is staff),
        missing on both sides as -1 (neutral)."""
        x = levels[self.columns_].to_numpy(dtype=np.int16).copy()
        for k, c in enumerate(self.columns_):
            n = self.n_levels_[c] - 2
            col = x[:, k]
            col[col == -3] = n
            col[col == -2] = n + 1
        return x

    def log_bayes_factors(self, levels: pd.DataFrame) -> pd.DataFrame:
        """Per pair and comparison: ln(m/u) of its level (0 when missing on both sides)."""
        out = {}
        x = self._encode(levels)
        for k, c in enumerate(self.columns_):
            col = x[:, k]
            table = np.log(self.m_[c]) - np.log(self.u_[c])
            out[c] = np.where(col >= 0, table[np.clip(col, 0, None)], 0.0)
        return pd.DataFrame(out, index=levels.index)

    def logit(self, levels: pd.DataFrame, tf_adjust: np.ndarray | None = None) -> np.ndarray:
        """ln posterior odds of a link (with an optional term-frequency adjustment in nats)."""
        x = self._encode(levels)
        logbf = np.zeros(len(x))
        for k, c in enumerate(self.columns_):
            col = x[:, k]
            table = np.log(self.m_[c]) - np.log(self.u_[c])
            logbf += np.where(col >= 0, table[np.clip(col, 0, None)], 0.0)
        if tf_adjust is not None:
            logbf = logbf + np.nan_to_num(tf_adjust)
        return np.log(self.lambda_) - np.log1p(-self.lambda_) + logbf

    def predict_proba(self, levels: pd.DataFrame, tf_adjust: np.ndarray | None = None) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logit(levels, tf_adjust), -700, 700)))


def _patterns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if len(x) == 0:
        return np.zeros((0, x.shape[1]), np.int16), np.zeros(0, np.int64), np.zeros(0, np.int64)
    patterns, inverse, counts = np.unique(x, axis=0, return_inverse=True, return_counts=True)
    return patterns, inverse.ravel(), counts


def tf_adjustment(tf_values: np.ndarray, reference: float) -> np.ndarray:
    """ln(reference share / this value's share) for exact agreements: rare names weigh more.

    ``tf_values`` are -log10(share) as ``compare_pairs`` writes them (NaN when not exact).
    """
    share = np.power(10.0, -tf_values)
    return np.where(np.isnan(tf_values), 0.0, np.log(reference) - np.log(share))

