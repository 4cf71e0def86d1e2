"""The default topics' public descriptions become the labelling guideline's summaries
(docs/topic-guideline.md), so readers see what the classifier was taught. A description a
curator has edited is left alone."""

from django.db import migrations

from subscribers.default_topics import DEFAULT_TOPICS

PREVIOUS = {
    "llms": "Pre-training, fine-tuning, instruction tuning and scaling of LLMs.",
    "reasoning": "Chain of thought, maths and logic, test-time compute, reasoning models.",
    "agents": "LLM agents, tool use, web and GUI agents, planning, multi-agent systems.",
    "code": "Code LLMs, program synthesis, software engineering agents.",
    "multimodal": "Vision-language models, multimodal LLMs, visual question answering.",
    "image-generation": "Diffusion models, text-to-image, image editing, generative models of images.",
    "video": "Video generation, editing and understanding.",
    "3d-vision": "3D reconstruction and generation, Gaussian splatting, NeRF, detection, segmentation.",
    "speech-audio": "Speech recognition and synthesis, audio and music generation.",
    "robotics": "Robot learning, manipulation, navigation, vision-language-action models.",
    "reinforcement-learning": "RL, RLHF and preference optimisation, reward models, policy optimisation.",
    "efficiency": "Quantisation, pruning, distillation, efficient inference and training.",
    "safety": "Alignment, jailbreaks, red-teaming, hallucination, interpretability, privacy.",
    "benchmarks": "New benchmarks, evaluation methods and leaderboards.",
    "datasets": "New datasets, data curation and synthetic data.",
    "science-health": "AI for science, biology, chemistry, medicine and health."
}


def describe_as_the_guideline(apps, schema_editor):
    topic_model = apps.get_model("subscribers", "Topic")
    for topic in DEFAULT_TOPICS:
        topic_model.objects.filter(slug=topic["slug"], description=PREVIOUS.get(topic["slug"])).update(
            description=topic["description"]
        )


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0004_trending_off_unless_asked")]
    operations = [migrations.RunPython(describe_as_the_guideline, migrations.RunPython.noop)]
