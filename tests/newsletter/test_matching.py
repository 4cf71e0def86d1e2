from dataclasses import dataclass, field

from papers.matching import compile_matcher, compile_terms, match_paper, normalise, split_terms


@dataclass
class FakePaper:
    title: str
    abstract: str = ""
    ai_keywords: list[str] = field(default_factory=list)


def test_a_phrase_matches_its_singular_and_plural():
    matcher = compile_matcher(["diffusion models"])
    assert match_paper(matcher, FakePaper("A latent diffusion model for audio"))
    assert match_paper(compile_matcher(["diffusion model"]), FakePaper("Scaling diffusion models"))


def test_terms_match_whole_words_only():
    matcher = compile_matcher(["RL", "agent"])
    assert not match_paper(matcher, FakePaper("World models for control", "A general framework."))
    assert match_paper(matcher, FakePaper("Offline RL at scale")).included_by == ("RL",)
    assert match_paper(matcher, FakePaper("Reagents in chemistry")).matched is False
    assert match_paper(matcher, FakePaper("Agentic coding")).included_by == ("agent",)
    assert match_paper(matcher, FakePaper("Web agents")).included_by == ("agent",)


def test_a_phrase_needs_its_words_in_order_and_adjacent():
    matcher = compile_matcher(["language model"])
    assert not match_paper(matcher, FakePaper("A model of language acquisition"))
    assert not match_paper(matcher, FakePaper("Language and vision: a model"))
    assert match_paper(matcher, FakePaper("Large Language Models are few-shot learners"))


def test_punctuation_case_and_hard_wraps_do_not_matter():
    matcher = compile_matcher(["vision-language model"])
    paper = FakePaper("Aligning Vision\n  Language Models", "")
    assert match_paper(matcher, paper).included_by == ("vision-language model",)


def test_british_spelling_and_acronym_plurals_fold_together():
    assert match_paper(compile_matcher(["quantization"]), FakePaper("Post-training quantisation of LLMs"))
    assert match_paper(compile_matcher(["LLM"]), FakePaper("Post-training quantisation of LLMs"))


def test_an_exclude_term_wins_over_every_include_term():
    matcher = compile_matcher(["diffusion", "image generation"], ["survey"])
    result = match_paper(matcher, FakePaper("A survey of diffusion for image generation"))
    assert result.included_by == ("diffusion", "image generation")
    assert result.excluded_by == ("survey",)
    assert not result.matched


def test_it_reports_which_terms_matched_in_title_abstract_and_keywords():
    matcher = compile_matcher(["speech", "text-to-speech", "audio"])
    paper = FakePaper("VoiceBox", "We model audio.", ["text-to-speech synthesis"])
    assert match_paper(matcher, paper).included_by == ("speech", "text-to-speech", "audio")


def test_a_phrase_never_spans_two_keywords_or_title_and_abstract():
    matcher = compile_matcher(["reward model"])
    assert not match_paper(matcher, FakePaper("Learning a reward", "", ["reward", "model merging"]))
    assert not match_paper(matcher, FakePaper("Beyond reward", "Models are ..."))


def test_it_matches_archive_dicts_like_models():
    matcher = compile_matcher(["robot"])
    assert match_paper(matcher, {"title": "Robotic manipulation", "abstract": "", "ai_keywords": None})


def test_an_empty_matcher_matches_nothing():
    assert not match_paper(compile_matcher([]), FakePaper("Anything at all"))
    assert not compile_terms("++, ,")


def test_split_terms_trims_and_drops_duplicates_and_blanks():
    assert split_terms(" LLM ,llm,\n  reasoning\n\n , chain of   thought") == [
        "LLM",
        "reasoning",
        "chain of thought",
    ]


def test_normalise_pads_with_spaces_for_whole_word_search():
    assert normalise("Robots!") == " robot "
    assert normalise("") == " "
