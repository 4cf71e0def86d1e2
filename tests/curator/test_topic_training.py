"""A curator's marks change the next training: a topic no model knows matches by its terms until
papers are marked in and out of it and the console's "Retrain now" has run (a real task, training
in a process of its own on this test's database)."""

from datetime import date, timedelta

import pytest

from papers.classifier.store import current_model
from papers.models import Paper, TopicMark, TopicModelVersion
from subscribers.models import Topic
from tests.newsletter.personas import paper

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("send_now")]
PAPERS = "/admin/papers/paper/"

QUANTUM = [
    "Error-corrected logical qubits on a superconducting quantum processor",
    "Variational quantum eigensolvers for molecular ground states on noisy qubits",
    "Quantum circuit compilation with reinforcement of gate fidelity on trapped ions",
    "Surface code decoding for fault-tolerant quantum computation",
    "Benchmarking quantum volume across superconducting and photonic quantum computers",
    "Entanglement distillation protocols for a quantum network of qubits",
    "Quantum annealing for combinatorial optimisation on hardware qubits",
    "Noise-aware qubit mapping for near-term quantum computers",
]
OTHER = [
    "A diffusion transformer for text-to-image generation",
    "Scaling laws of mixture-of-experts language models",
    "A benchmark of web agents on real websites",
    "Robot manipulation from human videos",
    "Speech recognition for low-resource languages",
    "Gaussian splatting for dynamic scenes",
    "Preference optimisation for chat assistants",
    "Quantising key-value caches of long-context models",
]


def stored(titles: list[str], first: int) -> list[Paper]:
    start = date(2026, 2, 2)
    return [
        paper(
            f"2602.{first + i:05d}",
            title,
            day=start + timedelta(days=i % 6),
            abstract=f"{title}. We study it.",
        )
        for i, title in enumerate(titles)
    ]


def test_marks_teach_the_next_training_a_topic_it_never_saw(curator_client):
    quantum = Topic.objects.create(name="Quantum computing", slug="quantum", include_terms="quantum")
    topics_page = curator_client.get("/admin/subscribers/topic/").content.decode()
    assert "not trained: matches by its terms" in topics_page
    inside, outside = stored(QUANTUM, 1), stored(OTHER, 100)
    for papers, action in ((inside, "mark_in_topic"), (outside, "mark_not_in_topic")):
        ids = [p.pk for p in papers]
        curator_client.post(PAPERS, {"action": action, "_selected_action": ids, "topic": quantum.pk})
    assert TopicMark.objects.filter(topic="quantum", is_in=True).count() == len(QUANTUM)
    assert TopicMark.objects.filter(topic="quantum", is_in=False).count() == len(OTHER)

    page = curator_client.post("/admin/papers/topicmodelversion/retrain/", follow=True).content.decode()
    assert "Training topic model" in page
    version = TopicModelVersion.objects.get()
    assert (version.status, version.progress, version.marks) == ("ready", "done", len(QUANTUM) + len(OTHER))
    assert "quantum" in version.info["held_out"]

    model, in_use = current_model()
    assert in_use == version.pk and "quantum" in model.slugs
    # Every stored paper was scored again by the new model, the marked ones included.
    assert set(Paper.objects.values_list("topic_model_id", flat=True)) == {version.pk}
    assert all("quantum" in p.topics for p in Paper.objects.filter(pk__in=[p.pk for p in inside]))
    assert not any("quantum" in p.topics for p in Paper.objects.filter(pk__in=[p.pk for p in outside]))
    assert "precision" in curator_client.get("/admin/subscribers/topic/").content.decode()
