"""The language table is the one place language facts live: every other table is a view of it, and its facts are
consistent (names, extensions and signatures never claimed by two languages; prompts valid; programs read as
their own language)."""

from __future__ import annotations

import importlib
import random

import pytest

from vinci_rl import languages
from vinci_rl.languages import LANGUAGES, NAMES, from_extension, is_relabel, looks_like, normalize, reads_as


def test_other_tables_are_views_of_the_language_table():
    from reward_workers.worker import WARMUP_PROGRAMS
    from vinci_rl.data.rows import PROMPT_TEMPLATES
    from vinci_rl.data.sources import CODE_EXTENSIONS, LANGUAGE_EXTENSIONS
    from vinci_rl.render import BACKENDS
    from vinci_rl.render.config import DEFAULT_TIMEOUTS_S
    from vinci_rl.reward.extract import BUILTIN_ALIASES, SIGNATURES

    for table in (BACKENDS, DEFAULT_TIMEOUTS_S, PROMPT_TEMPLATES, LANGUAGE_EXTENSIONS, BUILTIN_ALIASES, SIGNATURES):
        assert tuple(table) == NAMES
    # the worker's warm-up table lacked Mermaid while it was written out by hand
    assert set(WARMUP_PROGRAMS) == set(NAMES) and WARMUP_PROGRAMS["mermaid"]
    assert set(CODE_EXTENSIONS.values()) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_record_is_consistent(name):
    from vinci_rl.data.rows import check_template

    lang = LANGUAGES[name]
    check_template(lang.prompt, name)
    assert f"```{lang.fence}" in lang.prompt.format(name=lang.title, fence=lang.fence, language=name)
    module, cls = lang.backend.split(":")
    assert hasattr(importlib.import_module(module), cls)
    assert all(from_extension(ext) == name for ext in lang.extensions)
    assert reads_as(lang.warmup) == name  # the warm-up program starts like its language, and no other
    assert lang.timeout_s > 0


def test_no_name_extension_or_label_belongs_to_two_languages():
    labels = [x for lang in LANGUAGES.values() for x in (lang.name, *lang.labels)]
    assert len(labels) == len(set(labels))
    extensions = [x for lang in LANGUAGES.values() for x in lang.extensions]
    assert len(extensions) == len(set(extensions))
    fence_tags = [x for lang in LANGUAGES.values() for x in (lang.fence, *lang.fence_aliases)]
    assert len(fence_tags) == len(set(fence_tags))


def test_generated_programs_read_as_their_own_language():
    from vinci_rl.data.sample_programs import GENERATORS

    assert set(GENERATORS) == set(NAMES)
    rng = random.Random(0)
    for name, make in GENERATORS.items():
        for _ in range(20):
            code = make(rng)
            assert reads_as(code) in (name, None) and (looks_like(name, code) or reads_as(code) is None), (name, code)


@pytest.mark.parametrize(
    "given, key, relabel",
    [("svg", "svg", False), (" SVG ", "svg", False), ("TikZ", "latex", True), ("py", "python", True),
     ("Python", "python", False), ("cobol", "cobol", False), ("", None, False), (None, None, False)],
)  # fmt: skip
def test_normalize_and_relabel(given, key, relabel):
    assert normalize(given) == key
    assert is_relabel(given) is relabel


def test_unknown_language_is_named():
    with pytest.raises(ValueError, match="unknown language 'cobol'; known: svg, html"):
        languages.language("cobol")
