"""Guideline 1.2 widened the LLM topic to what the issue's definition says (post-training and
inference of LLMs are about LLMs themselves): its public description follows. A description a
curator has edited is left alone."""

from django.db import migrations

BEFORE = (
    "Research on large language models themselves: pre-training, fine-tuning, scaling, architecture, "
    "long context, mixture of experts, and analysis of how LLMs behave."
)
AFTER = (
    "Research on large language models themselves: pre-training, fine-tuning and post-training, "
    "scaling, architecture, long context, mixture of experts, inference, and analysis of how LLMs behave."
)


def describe_as_guideline_1_2(apps, schema_editor):
    apps.get_model("subscribers", "Topic").objects.filter(slug="llms", description=BEFORE).update(
        description=AFTER
    )


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0005_topic_descriptions_from_the_guideline")]
    operations = [migrations.RunPython(describe_as_guideline_1_2, migrations.RunPython.noop)]
