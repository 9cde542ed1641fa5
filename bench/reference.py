#!/usr/bin/python3
"""The pandas + scikit-learn reference for `npm run bench`: the work of mlops's five verbs
(ingest, train, score, diagnose, deploy) done the usual way, in ONE process, each step timed.

    /usr/bin/python3 bench/reference.py PROJECT_DIR OUT_DIR [--reread]

PROJECT_DIR holds practicedata/ (the input CSV files) and testdata/; everything is written under
OUT_DIR. In one process the ingested rows stay in memory from ingest to train and diagnose; with
--reread, train and diagnose read finaldata.csv back, as separate programs would. Prints one
JSON object: seconds per step, the total (imports included), the peak RSS in MB and the CPU
seconds (user + system).
"""
import json
import os
import pickle
import resource
import shutil
import sys
import time

t_start = time.perf_counter()
import pandas as pd  # noqa: E402  (imports are part of the work: timed)
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_score, recall_score, roc_auc_score  # noqa: E402

project, out = sys.argv[1], sys.argv[2]
reread = "--reread" in sys.argv
target = "exited"
os.makedirs(out, exist_ok=True)
final_csv = os.path.join(out, "finaldata.csv")
seconds = {"imports": time.perf_counter() - t_start}


def step(name):
    def wrap(fn):
        t0 = time.perf_counter()
        result = fn()
        seconds[name] = time.perf_counter() - t0
        return result
    return wrap


def read_folder(folder):
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(".csv") and not f.startswith("."))
    return names, pd.concat([pd.read_csv(os.path.join(folder, f)) for f in names], ignore_index=True)


@step("ingest")
def final():
    names, df = read_folder(os.path.join(project, "practicedata"))
    df = df.drop_duplicates()
    df.to_csv(final_csv, index=False)
    with open(os.path.join(out, "ingestedfiles.txt"), "w") as fh:
        fh.write("".join(f"{n}\n" for n in names))
    return df


# the numeric columns but the target (mlops leaves out the identifier column the same way)
features = [c for c in final.columns if c != target and pd.api.types.is_numeric_dtype(final[c])]


def ingested():
    return pd.read_csv(final_csv) if reread else final


@step("train")
def model():
    df = ingested()
    m = LogisticRegression().fit(df[features], df[target])
    with open(os.path.join(out, "trainedmodel.pkl"), "wb") as fh:
        pickle.dump(m, fh)
    return m


@step("score")
def scores():
    _, test = read_folder(os.path.join(project, "testdata"))
    p = model.predict_proba(test[features])[:, 1]
    y, yhat = test[target], (p > 0.5).astype(int)
    s = {
        "f1": f1_score(y, yhat), "precision": precision_score(y, yhat), "recall": recall_score(y, yhat),
        "accuracy": accuracy_score(y, yhat), "roc_auc": roc_auc_score(y, p), "log_loss": log_loss(y, p),
    }
    with open(os.path.join(out, "latestscore.txt"), "w") as fh:
        fh.write(f"{s['f1']}\n")
    return s


@step("diagnose")
def diagnostics():
    df = ingested()
    _, test = read_folder(os.path.join(project, "testdata"))
    d = {
        "summary": df.describe().to_dict(),
        "missing": df.isna().sum().to_dict(),
        "predictions": model.predict(test[features]).tolist(),
    }
    with open(os.path.join(out, "diagnostics.json"), "w") as fh:
        json.dump(d, fh, default=float)
    return d


@step("deploy")
def deployed():
    prod = os.path.join(out, "production_deployment")
    os.makedirs(prod, exist_ok=True)
    for name in ["trainedmodel.pkl", "latestscore.txt", "ingestedfiles.txt", "finaldata.csv"]:
        shutil.copy(os.path.join(out, name), os.path.join(prod, name))
    return prod


total = time.perf_counter() - t_start
print(json.dumps({
    "rows": int(len(final)),
    "reread": reread,
    "seconds": {k: round(v, 4) for k, v in seconds.items()},
    "total_s": round(total, 4),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "cpu_s": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime, 3),
    "f1": scores["f1"],
}))
