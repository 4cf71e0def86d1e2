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
