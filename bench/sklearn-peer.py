"""The scikit-learn peer of bench:cv: TF-IDF over word and character n-grams of normalised text, LinearSVC.

Reads one JSON document on stdin, written by bench/cv.bench.ts so that both sides score the same rows on the same
folds: {"products": [[designation, description, label], ...], "extra": [[...], ...], "folds": [[test index, ...], ...]}.
Prints one JSON object: weighted F1, macro F1 and accuracy per fold.
"""
import html
import json
import re
import sys
import time
import unicodedata

from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.svm import LinearSVC

TAG = re.compile(r"<[^>]+>")
DIGITS = re.compile(r"\d{3,}")


def normalise(text: str) -> str:
    text = html.unescape(TAG.sub(" ", text or ""))
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return DIGITS.sub("0", text)


def features():
    # Title and description in their own blocks: a word in the title says more than the same word deep in a description.
    return [
        ("title", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b\w+\b")),
        ("title", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ("all", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=2, token_pattern=r"(?u)\b\w+\b")),
        ("all", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2, max_features=300000)),
    ]


def main() -> None:
    doc = json.load(sys.stdin)
    rows = [(normalise(d), normalise(d + " " + (s or "")), y) for d, s, y in doc["products"]]
    extra = [(normalise(d), normalise(d + " " + (s or "")), y) for d, s, y in doc["extra"]]
    folds = []
    started = time.time()
    for test in doc["folds"]:
        held = set(test)
        train = [r for i, r in enumerate(rows) if i not in held] + extra
        scored = [rows[i] for i in test]
        blocks_train, blocks_test = [], []
        for field, vectorizer in features():
            col = 0 if field == "title" else 1
            blocks_train.append(vectorizer.fit_transform([r[col] for r in train]))
            blocks_test.append(vectorizer.transform([r[col] for r in scored]))
        model = LinearSVC(C=0.5, max_iter=5000)
        model.fit(hstack(blocks_train).tocsr(), [r[2] for r in train])
        predicted = model.predict(hstack(blocks_test).tocsr())
        truth = [r[2] for r in scored]
        folds.append({
            "weighted_f1": f1_score(truth, predicted, average="weighted"),
            "macro_f1": f1_score(truth, predicted, average="macro"),
            "accuracy": accuracy_score(truth, predicted),
        })
        print(f"sklearn peer fold {len(folds)}: weighted F1 {folds[-1]['weighted_f1']:.4f}", file=sys.stderr)
    print(json.dumps({"folds": folds, "seconds": time.time() - started}))


if __name__ == "__main__":
    main()
