"""pyproject.toml is the one list of dependencies; environment.yml only points at it."""

import re
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_names_no_dependency_of_its_own():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    text = (ROOT / "environment.yml").read_text()
    deps = text[text.index("dependencies:"):]
    items = [ln.strip()[2:].strip() for ln in deps.splitlines() if ln.strip().startswith("- ")]
    conda = [i for i in items if i not in ("pip", "pip:") and not i.startswith("-e ")]
    assert conda == [f"python{project['requires-python']}"]
    (editable,) = [i for i in items if i.startswith("-e ")]
    extras = re.fullmatch(r"-e \.\[([\w,]+)\]", editable).group(1).split(",")
    assert set(extras) <= set(project["optional-dependencies"])


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make report" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
