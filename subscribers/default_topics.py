"""The topics a new installation starts with, checked against two years of the listing.

`python manage.py topic_coverage` reports how many archive papers each one matches. Curators edit
topics in the admin afterwards; the data migration only creates the missing ones.
"""

import json
from pathlib import Path
from typing import Any, TypedDict


class DefaultTopic(TypedDict):
    slug: str
    name: str
    description: str
    include: list[str]
    exclude: list[str]


# The data lives beside this file: curators and the labelling guideline (docs/topic-guideline.md)
# read it as a list of topics, not as code.
DEFAULT_TOPICS: list[DefaultTopic] = json.loads((Path(__file__).parent / "default_topics.json").read_text())


def create_missing_topics(topic_model: Any) -> None:
    """Create the default topics whose slug is missing; edited ones are left alone. Takes the
    model as an argument so the data migration can pass its historical one."""
    for order, topic in enumerate(DEFAULT_TOPICS):
        topic_model.objects.get_or_create(
            slug=topic["slug"],
            defaults={
                "name": topic["name"],
                "description": topic["description"],
                "include_terms": "\n".join(topic["include"]),
                "exclude_terms": "\n".join(topic["exclude"]),
                "order": (order + 1) * 10,
            },
        )
