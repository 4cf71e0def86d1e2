"""Guideline 1.4 gave the Safety topic one test (is making AI systems safe or trustworthy the
paper's goal?), so interpretability stays in it only for oversight: its public description
follows. A description a curator has edited is left alone."""

from django.db import migrations

BEFORE = (
    "Making models safe and trustworthy: alignment, jailbreaks and red-teaming, hallucination and "
    "factuality, interpretability, privacy, bias and fairness, watermarking and misuse."
)
AFTER = (
    "Making AI systems safe and trustworthy: alignment, jailbreaks and red-teaming, hallucination and "
    "factuality, privacy, bias and fairness, watermarking, deepfakes and misuse, interpretability for "
    "oversight."
)


def describe_as_guideline_1_4(apps, schema_editor):
    apps.get_model("subscribers", "Topic").objects.filter(slug="safety", description=BEFORE).update(
        description=AFTER
    )


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0006_llm_description_guideline_1_2")]
    operations = [migrations.RunPython(describe_as_guideline_1_4, migrations.RunPython.noop)]
