"""The labelled set (see README.md beside this file): the topics it judges, and where it lies."""

from pathlib import Path

FOLDER = Path(__file__).parent
# The default topics the guideline (docs/topic-guideline.md) defines and every paper is judged for.
TOPICS = [
    "llms",
    "reasoning",
    "agents",
    "code",
    "multimodal",
    "image-generation",
    "video",
    "3d-vision",
    "speech-audio",
    "robotics",
    "reinforcement-learning",
    "efficiency",
    "safety",
    "benchmarks",
    "datasets",
    "science-health",
]
# Labelled days the shipped model never trains on, so tests can send their digests and check what
# readers get on days the model never saw: the four whose Hugging Face API captures the tests read
# (../shared/fixtures/hf/api), and every 30th day from the 16th of the 364 labelled by the first four
# rounds (278 papers in all).
UNSEEN_BY_DEFAULT_MODEL = [
    *("2024-05-27", "2024-08-01", "2025-03-05", "2026-06-12"),
    *("2024-06-27", "2024-09-03", "2024-11-08", "2025-01-20", "2025-03-27", "2025-06-03"),
    *("2025-08-07", "2025-10-14", "2025-12-22", "2026-02-26", "2026-05-04", "2026-07-13"),
]
