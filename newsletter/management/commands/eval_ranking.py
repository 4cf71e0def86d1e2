import json
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsletter.ranking.evaluation import (
    RATERS,
    VOTES_PER_DAY,
    ColdStart,
    archive_days,
    cold_start,
    default_topics,
    make_readers,
    replay_day,
    summarise,
)

# "First week": a reader's first five listing days (weekdays).
FIRST_DAYS = 5
DEFAULT_ARCHIVE = settings.BASE_DIR.parent / "shared" / "fixtures" / "hf" / "daily-papers-archive.jsonl.gz"


class Command(BaseCommand):
    help = "Replay archive days with simulated readers: precision@5/@10 of topic-only vs learned ranking."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
        parser.add_argument("--from", dest="first", type=date.fromisoformat, default=date(2026, 5, 1))
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--warmup", type=int, default=5, help="Days of votes before the summary counts.")
        parser.add_argument(
            "--cold-start",
            dest="cold_start",
            type=int,
            metavar="N",
            help="Instead: each reader first rates N papers of the 7 days before signing up, chosen by "
            "the welcome page's chooser (subscribers.rating), voting by their hidden interest; then "
            "precision@5/@10 of their first 5 listing days, with N=0 and N side by side. Readers sign "
            "up on --signups dates, 5 listing days apart from --from on.",
        )
        parser.add_argument("--signups", type=int, default=6, help="Sign-up dates for --cold-start.")
        parser.add_argument(
            "--rater",
            choices=sorted(RATERS),
            default="chooser",
            help="With --cold-start: who picks the papers rated at sign-up. 'chooser' (default) is the "
            "welcome page's; 'informed' knows each reader's hidden interest (half of the N from it, "
            "the rest on-topic papers outside it), the most any chooser could teach.",
        )
        parser.add_argument(
            "--votes-per-day",
            dest="votes_per_day",
            type=int,
            default=VOTES_PER_DAY,
            metavar="K",
            help="Votes each reader casts on a day's digest: at most K of the 10 papers shown, the ones "
            f"of their interest first (default {VOTES_PER_DAY}: every paper, as the README's figures "
            "were made; a real reader votes on a minority of digests, so 1 is already generous).",
        )

    def handle(
        self,
        *args,
        archive: Path,
        first: date,
        days: int,
        warmup: int,
        cold_start: int | None,
        votes_per_day: int,
        **options,
    ) -> None:
        if not archive.exists():
            raise CommandError(f"No archive at {archive}: pass --archive PATH.")
        if votes_per_day < 0:
            raise CommandError("--votes-per-day must be 0 or more.")
        if cold_start is not None:
            figures = self.run_cold_start(
                archive, first, options["signups"], cold_start, votes_per_day, options["rater"]
            )
            self.report_cold_start(figures)
            return
        topics = default_topics()
        readers = make_readers(topics, max_papers=10)
        results = []
        for day, papers in archive_days(archive, first, days):
            result = replay_day(readers, topics, day, papers, votes_per_day)
            results.append(result)
            self.stdout.write(
                f"{day}  papers {len(papers):3d}  topic p@5 {result.topic[5]:.2f} p@10 {result.topic[10]:.2f}"
                f"  learned p@5 {result.learned[5]:.2f} p@10 {result.learned[10]:.2f}"
            )
        if not results:
            raise CommandError("No archive days in that range.")
        self.stdout.write(json.dumps(summarise(results, warmup, votes_per_day)))

    def run_cold_start(
        self, archive: Path, first: date, signups: int, rated: int, votes_per_day: int, rater: str
    ) -> ColdStart:
        if rated < 0 or signups < 1:
            raise CommandError("--cold-start and --signups must be positive.")
        figures = cold_start(archive, first, signups, FIRST_DAYS, rated, votes_per_day, rater)
        if not figures.signups:
            raise CommandError("No archive days in that range.")
        return figures

    def report_cold_start(self, figures: ColdStart) -> None:
        summary = figures.summary()
        n = figures.rated
        dates = ", ".join(d.isoformat() for d in figures.signups)
        self.stdout.write(
            f"sign-ups: {dates} ({summary['readers']} readers each, "
            f"at most {figures.votes_per_day} votes a day; sign-up papers: {figures.rater})"
        )
        self.stdout.write(f"first {FIRST_DAYS} listing days   topic-only   N=0     N={n}    ratio")
        for k in (5, 10):
            ratio = summary[f"ratio_p{k}"]
            self.stdout.write(
                f"precision@{k:<2}              {summary[f'topic_p{k}']:.3f}        "
                f"{summary[f'n0_p{k}']:.3f}   {summary[f'n{n}_p{k}']:.3f}   {'-' if ratio is None else ratio}"
            )
        self.stdout.write(json.dumps(summary))
