"""Splink's answer as the benchmarks compare it: its single-best-link clusters as one-to-one pairs.

Shared by ``febrl4.py`` and ``pupils.py`` (both run as scripts, so this folder is on the path).
"""

from __future__ import annotations

import pandas as pd


def single_best_pairs(linker, predictions) -> pd.DataFrame:
    """``left_id, right_id`` of the clusters that hold exactly one record of each side ("a", "b")."""
    clusters = linker.clustering.cluster_using_single_best_links(
        predictions, duplicate_free_datasets=["a", "b"], threshold_match_probability=0.5
    ).as_pandas_dataframe()
    src = "source_dataset" if "source_dataset" in clusters.columns else [c for c in clusters.columns if "source" in c][0]
    pairs = []
    for _, group in clusters.groupby("cluster_id"):
        ga, gb = group[group[src] == "a"], group[group[src] == "b"]
        if len(ga) == 1 and len(gb) == 1:
            pairs.append((ga["rec_id"].iloc[0], gb["rec_id"].iloc[0]))
    return pd.DataFrame(pairs, columns=["left_id", "right_id"])
