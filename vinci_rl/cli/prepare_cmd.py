"""vinci-rl prepare SOURCE --out DIR: image/code data -> verl multimodal parquet, filtered, with a bad-row report.

    vinci-rl prepare pairs/ --out runs/data --val 0.1 --tokenizer /models/Qwen2.5-VL-7B --max-tokens 6000
    vinci-rl prepare table.parquet --out runs/data --image-col png --code-col svg --lang svg
    vinci-rl prepare svgs/ --out runs/data --lang svg --size 512          # code alone: the images are rendered
    vinci-rl prepare data/sample_set/train --out runs/sample --size 128   # the bundled sample set
    vinci-rl prepare runs/data/train.parquet --out runs/refine --refine-examples 500   # a prepared set + refinement rows

SOURCE: a folder (pairs `<stem>.<code ext>` + `<stem>.png`, or code files alone), a .parquet / .jsonl / .json
table, a parquet `vinci-rl prepare` wrote, or a Hugging Face `datasets` folder (save_to_disk). Writes
DIR/<split-name>.parquet (+ DIR/val.parquet with --val, DIR/refine.parquet with --refine-examples),
DIR/rejected.jsonl (id, reason, detail of every dropped record) and DIR/summary.json.
"""

from __future__ import annotations

import argparse

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[0]
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("source", help="folder, .parquet/.jsonl/.json table, or datasets folder")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--lang", help="language of every record (svg, html, latex, python, smiles, mermaid)")
    cols = parser.add_argument_group("table columns")
    cols.add_argument("--image-col", default="image", help="image column: bytes, path, {bytes, path} (default image)")
    cols.add_argument("--code-col", default="code", help="ground-truth code column (default code)")
    cols.add_argument("--lang-col", default="language", help="language column (default language)")
    cols.add_argument("--id-col", default="id", help="id column (default id; else row-<n>)")
    cols.add_argument("--hf-split", help="split of a datasets DatasetDict folder")
    prompts = parser.add_argument_group("prompts")
    prompts.add_argument(
        "--template", action="append", default=[], metavar="LANG=TEXT",
        help="prompt template of a language (LANG 'default' for all); must contain <image>; "
        "placeholders {name} {fence} {language}; repeatable",
    )
    prompts.add_argument("--templates", metavar="YAML", help="YAML mapping language (or default) -> template")
    filt = parser.add_argument_group("filters")
    filt.add_argument("--tokenizer", help="model dir / hub id counting ground-truth tokens (extra_info.gt_tokens, else -1)")
    filt.add_argument("--min-tokens", type=int, help="drop ground truths shorter than this (needs --tokenizer)")
    filt.add_argument("--max-tokens", type=int, help="drop ground truths longer than this (needs --tokenizer)")
    filt.add_argument("--min-entropy", type=float, default=0.05, help="colour entropy floor, bits; 0 = off (default 0.05)")
    filt.add_argument("--keep-duplicates", action="store_true", help="do not drop repeated code / images")
    filt.add_argument("--no-render-check", action="store_true", help="skip rendering the code of records with an image")
    parser.add_argument("--size", default="512", help="render size WxH or one side, code-only records (default 512)")
    parser.add_argument("--val", type=float, default=0.0, help="validation split: fraction < 1 or row count (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    parser.add_argument("--split-name", default="train", help="name of the main output file (default train)")
    parser.add_argument(
        "--refine-examples", type=int, default=0, metavar="N",
        help="also write DIR/refine.parquet: N render-and-refine SFT rows (a perturbed ground truth, its render, the "
        "fix) built from the main split's rows (default 0)",
    )  # fmt: skip
    parser.add_argument("--sandbox", choices=["auto", "bwrap", "none"], default="auto", help="render sandbox")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def parse_size(text: str) -> tuple[int, int]:
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        raise CliError(f"--size {text!r}: expected WIDTHxHEIGHT or one number") from None
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) <= 0:
        raise CliError(f"--size {text!r}: expected WIDTHxHEIGHT or one number, both positive")
    return parts[0], parts[1]


def load_templates(args: argparse.Namespace) -> dict[str, str]:
    import yaml

    from vinci_rl.data.rows import check_template

    templates: dict[str, str] = {}
    if args.templates:
        try:
            data = yaml.safe_load(open(args.templates))
        except (OSError, yaml.YAMLError) as e:
            raise CliError(f"--templates {args.templates}: {e}") from e
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise CliError(f"--templates {args.templates}: expected a mapping language -> template text")
        templates.update({str(k): v for k, v in data.items()})
    for item in args.template:
        lang, sep, text = item.partition("=")
        if not sep or not lang:
            raise CliError(f"--template {item!r}: expected LANG=TEXT")
        templates[lang] = text
    for lang, text in templates.items():
        try:
            check_template(text, f"prompt template for {lang!r}")
        except ValueError as e:
            raise CliError(str(e)) from e
    return templates


def run(args: argparse.Namespace) -> int:
    from vinci_rl.data.prepare import PrepareConfig, prepare
    from vinci_rl.data.sources import Columns, InputError

    cfg = PrepareConfig(
        source=args.source,
        out_dir=args.out,
        columns=Columns(args.image_col, args.code_col, args.lang_col, args.id_col),
        lang=args.lang,
        hf_split=args.hf_split,
        templates=load_templates(args),
        tokenizer=args.tokenizer,
        min_tokens=args.min_tokens,
        max_tokens=args.max_tokens,
        min_entropy=args.min_entropy,
        dedupe=not args.keep_duplicates,
        render_check=not args.no_render_check,
        size=parse_size(args.size),
        val=args.val,
        seed=args.seed,
        split_name=args.split_name,
        refine_examples=args.refine_examples,
        render={"sandbox": args.sandbox},
        progress=not args.quiet,
    )
    try:
        summary = prepare(cfg)
    except (InputError, ValueError, OSError) as e:
        raise CliError(str(e)) from e
    print(summary.text())
    if not sum(summary.rows.values()):
        print("no rows kept: see the rejected rows above")
        return 1
    return 0
