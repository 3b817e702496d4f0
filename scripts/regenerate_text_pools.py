"""Regenerate the factory's text pools (task ids, error messages) from faker.

The factory draws task ids and error messages from small pools shipped with the package
(src/pytest_trigger_batches/text_pools.json), so that faker, and its pytest plugin, are
not something every user installs and loads. faker stays where that text comes from:

    python scripts/regenerate_text_pools.py          # rewrite the pools from faker
    python scripts/regenerate_text_pools.py --check  # exit 1 if they differ from faker's

faker must be installed (`pip install -e '.[test]'`); tests/test_text_pools.py runs the
check. Rewriting the pools changes the text of every seeded batch: see CONTRIBUTING.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

POOLS = Path(__file__).resolve().parents[1] / "src" / "pytest_trigger_batches" / "text_pools.json"
SEED = 20260301
SIZE = 48
ABOUT = (
    f"Drawn from faker (en_US, seed {SEED}) by scripts/regenerate_text_pools.py; "
    "regenerate, do not edit."
)


def from_faker() -> dict[str, object]:
    """The pools as faker draws them: task ids from its business phrases, reasons from
    its sentences (lower case, no full stop)."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(SEED)
    task_ids: list[str] = []
    while len(task_ids) < SIZE:
        words = fake.bs().lower().replace("-", " ").split()
        task_id = f"{words[0]}-{words[-1]}"
        if task_id not in task_ids:
            task_ids.append(task_id)
    reasons = [fake.sentence(nb_words=6).rstrip(".").lower() for _ in range(SIZE)]
    return {"about": ABOUT, "task_ids": task_ids, "reasons": reasons}


def render(pools: dict[str, object]) -> str:
    """The file's text: one string a line, so a change reads as a small diff."""
    return json.dumps(pools, indent=1, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if different")
    parser.add_argument("--path", type=Path, default=POOLS, help="the pools file (%(default)s)")
    args = parser.parse_args(argv)
    text = render(from_faker())
    current = args.path.read_text(encoding="utf-8") if args.path.exists() else None
    if args.check:
        if current == text:
            print(f"{args.path}: the same as faker's")
            return 0
        print(
            f"{args.path}: differs from faker's; run python scripts/regenerate_text_pools.py",
            file=sys.stderr,
        )
        return 1
    args.path.write_text(text, encoding="utf-8")
    print(f"{args.path}: {'unchanged' if current == text else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
