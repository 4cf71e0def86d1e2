from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """The benchmark commands (bench_digests, bench_web, bench_ingest), kept out of the product's
    apps. On top of all three layers: it may import any of them, and nothing imports it."""

    name = "benchmarks"
