"""The seed's stack for bench:api's peer mode: FastAPI + uvicorn + scikit-learn answering single text predictions.

Trains TF-IDF (words and character n-grams) + a linear SVM on X_train.csv / Y_train.csv of the shared Rakuten folder,
saves it with joblib, then serves POST /v1/predictions ({"designation", "description"} -> the top code) from
`--workers` uvicorn processes, as the seed ran it.

    python3 bench/peer/peer_server.py --data ../shared/data/rakuten --model var/bench/peer/model.joblib --port 3918
"""

import argparse
import csv
import os
import sys
import time

import joblib
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC


class Item(BaseModel):
    designation: str = ""
    description: str | None = None


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def train(data_dir, model_path):
    started = time.time()
    texts = [
        f"{row['designation']} {row['description'] or ''}" for row in read_rows(os.path.join(data_dir, "X_train.csv"))
    ]
    labels = [int(row["prdtypecode"]) for row in read_rows(os.path.join(data_dir, "Y_train.csv"))]
    model = make_pipeline(
        make_union(
            TfidfVectorizer(sublinear_tf=True, max_features=100_000),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, max_features=100_000),
        ),
        LinearSVC(C=0.5),
    )
    model.fit(texts, labels)
    os.makedirs(os.path.dirname(os.path.abspath(model_path)), exist_ok=True)
    joblib.dump(model, model_path)
    print(f"peer: trained on {len(texts)} rows in {time.time() - started:.1f} s", file=sys.stderr)


app = FastAPI()
_model = None


@app.on_event("startup")
def load():
    global _model
    _model = joblib.load(os.environ["PEER_MODEL"])


@app.post("/v1/predictions")
def predict(item: Item):
    code = _model.predict([f"{item.designation} {item.description or ''}"])[0]
    return {"prdtypecode": int(code)}


@app.get("/health")
def health():
    return {"status": "ok"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, default=3918)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not os.path.exists(args.model):
        train(args.data, args.model)
    import uvicorn

    os.environ["PEER_MODEL"] = os.path.abspath(args.model)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    uvicorn.run("peer_server:app", host="127.0.0.1", port=args.port, workers=args.workers, log_level="warning")


if __name__ == "__main__":
    main()
