"""Agreement between the two independent readings of the labelled set (Cohen's kappa per topic).

`python -m papers.topic_labels.agreement` prints one line per topic and a summary; it reads only
the files beside it (readings/, see settle.py) and needs no database. A topic read again after a
guideline change is measured on its newest reading, which is what the labels hold for it.
"""

from papers.topic_labels import TOPICS as SLUGS
from papers.topic_labels.settle import all_readings, latest, topics_of


def kappa(first: list[bool], second: list[bool]) -> float:
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    p1, p2 = sum(first) / n, sum(second) / n
    expected = p1 * p2 + (1 - p1) * (1 - p2)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def report() -> list[str]:
    full, again = all_readings()
    chosen = {paper: latest(paper, full, again) for paper in sorted(full[0])}
    lines, differ = [], set()
    for slug in SLUGS:
        # A topic re-read after a guideline change is measured on its newest reading, as settled.
        a = [slug in topics_of(by[slug][0][paper], [slug]) for paper, by in chosen.items()]
        b = [slug in topics_of(by[slug][1][paper], [slug]) for paper, by in chosen.items()]
        disagree = {paper for paper, x, y in zip(chosen, a, b, strict=True) if x != y}
        differ |= disagree
        lines.append(
            f"{slug:24} kappa {kappa(a, b):.3f}  first {sum(a):4}  second {sum(b):4}  differ {len(disagree)}"
        )
    lines.append(
        f"{len(chosen)} papers read twice; {len(differ)} with a disagreement, settled by a third reading"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
