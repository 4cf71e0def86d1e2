"""Agreement between the two independent readings of the labelled set (Cohen's kappa per topic).

`python -m papers.topic_labels.agreement` prints one line per topic and a summary; it reads only
the files beside it (readings/batch-NN.reader-{1,2}.jsonl) and needs no database.
"""

import json
from pathlib import Path

from papers.topic_labels import TOPICS as SLUGS

HERE = Path(__file__).parent


def read(pattern: str) -> dict[str, set[str]]:
    labels: dict[str, set[str]] = {}
    for path in sorted((HERE / "readings").glob(pattern)):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            labels[row["id"]] = set(row["topics"])
    return labels


def kappa(first: list[bool], second: list[bool]) -> float:
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    p1, p2 = sum(first) / n, sum(second) / n
    expected = p1 * p2 + (1 - p1) * (1 - p2)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def report() -> list[str]:
    one, two = read("batch-*.reader-1.jsonl"), read("batch-*.reader-2.jsonl")
    ids = sorted(one)
    lines = []
    for slug in SLUGS:
        a, b = [slug in one[i] for i in ids], [slug in two[i] for i in ids]
        disagree = sum(x != y for x, y in zip(a, b, strict=True))
        lines.append(
            f"{slug:24} kappa {kappa(a, b):.3f}  first {sum(a):4}  second {sum(b):4}  differ {disagree}"
        )
    settled = sum(1 for i in ids if one[i] != two[i])
    lines.append(f"{len(ids)} papers read twice; {settled} with a disagreement, settled by a third reading")
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
