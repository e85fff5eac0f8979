"""Every citation resolves from a clone anywhere: sources name public things (a kernel commit or file, a
mail's subject or Message-ID, a paper, a benchmark's repository and file), never a path outside the
repository."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_engine  # no engine code here: the compiled pass only (CONTRIBUTING.md)

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("data", "docs", "notebooks", "rxlab", "README.md", "ARCHITECTURE.md", "CONTRIBUTING.md")
TEXT = {".md", ".toml", ".csv", ".ipynb", ".py", ".txt", ".json"}

# A relative path climbing out of its file's folder to anything but a file of the repository, an absolute path into a machine, a seed file by its
# private name, or a Markdown file the repository does not hold (a private note cited by name).
RELATIVE = re.compile(r"(?:\.\./)+[\w./-]*")
ABSOLUTE = re.compile(r"(?<![\w.:/])(?:/work|/tmp|/home|/root|~)/[\w./-]+")
SEED_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")
MARKDOWN = re.compile(r"(?<![\w/.-])([\w-]+\.md)\b")


def scanned_files():
    for name in SCANNED:
        path = ROOT / name
        for f in [path] if path.is_file() else sorted(path.rglob("*")):
            if f.is_file() and f.suffix in TEXT and not {"__pycache__", ".ipynb_checkpoints"} & set(f.parts):
                yield f


def outside_citations(path, text, markdown_names):
    """The citations in ``text`` (of the file at ``path``) that a clone elsewhere could not follow."""
    bad = []
    for m in RELATIVE.finditer(text):
        target = (path.parent / m.group()).resolve()
        if not (target.is_relative_to(ROOT) and target.exists()):
            bad.append(m.group())
    bad += [m.group() for m in ABSOLUTE.finditer(text)]
    bad += [m.group() for m in SEED_FILE.finditer(text)]
    # a Markdown file named after an owner/repo (`nviennot/core-to-core-latency README.md`) is that
    # repository's; one named alone must be in this repository
    bad += [m.group(1) for m in MARKDOWN.finditer(text)
            if m.group(1) not in markdown_names and not re.search(r"[\w-]+/[\w.-]+\W{0,3}$", text[:m.start()])]
    return bad


def test_no_citation_points_outside_the_repository():
    markdown_names = {f.name for f in scanned_files() if f.suffix == ".md"} | {f.name for f in ROOT.glob("*.md")}
    found = {}
    for f in scanned_files():
        bad = outside_citations(f, f.read_text(encoding="utf-8"), markdown_names)
        if bad:
            found[str(f.relative_to(ROOT))] = sorted(set(bad))
    assert not found, f"citations a clone cannot follow: {found}"


@pytest.mark.parametrize("text, bad", [
    ("(`../shared/seeds/`)", ["../shared/seeds/"]),
    ("5.4 ns (measurements.md) x 3.6 GHz", ["measurements.md"]),
    ("see /work/shared/reference/kernel-facts.md", ["/work/shared/reference/kernel-facts.md"]),
    ("seed 000_8f117a0bbb501406.txt", ["000_8f117a0bbb501406.txt"]),
    ("[ARCHITECTURE.md](../ARCHITECTURE.md), nviennot/core-to-core-latency README.md", []),
    ("torvalds/linux tools/testing/selftests/net/tcp_mmap.c header, commit 730ff06d3f5c", []),
])
def test_the_check_catches_outside_paths(text, bad):
    names = {"ARCHITECTURE.md", "README.md"}
    assert outside_citations(ROOT / "docs" / "model.md", text, names) == bad
