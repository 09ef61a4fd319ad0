"""What ``pip install vlae_tf`` installs: one top-level package, declared requirements, working console scripts.

The metadata comes from setuptools' own PEP 517 hook (``prepare_metadata_for_build_wheel``, half a second,
nothing written into the checkout), so it is what a wheel built from this checkout would carry.
"""

import ast
import email
import importlib
import importlib.metadata
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Folders whose imports are the installed package's: benchmarks/ and tests/ run from a checkout only.
INSTALLED_SOURCES = ("vlae_tf", "trainers")


@pytest.fixture(scope="module")
def metadata(tmp_path_factory):
    out = tmp_path_factory.mktemp("metadata")
    pytest.importorskip("setuptools", reason="the metadata hook is setuptools'")
    proc = subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta; "
                           "print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dist_info = out / proc.stdout.strip().splitlines()[-1]
    meta = email.message_from_string((dist_info / "METADATA").read_text())
    entry_points = (dist_info / "entry_points.txt").read_text()
    scripts = dict(re.findall(r"^(\S+)\s*=\s*(\S+)$", entry_points.split("[console_scripts]")[1], re.M))
    requires = meta.get_all("Requires-Dist") or []
    return {"top_level": (dist_info / "top_level.txt").read_text().split(),
            "extras": meta.get_all("Provides-Extra") or [], "scripts": scripts,
            "core": {_dist_name(r) for r in requires if "extra ==" not in r},
            "requires": requires}


def _dist_name(requirement: str) -> str:
    """``"tensorflow-serving-api>=2.21; extra == 'x'"`` -> ``"tensorflow-serving-api"`` (PEP 503 normalised)."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group(0)).lower()


def test_only_vlae_tf_is_installed_at_the_top_level(metadata):
    # A top-level `trainers` or `benchmarks` in site-packages would collide with any other project's.
    assert sorted(metadata["top_level"]) == ["vlae_tf", "vlae_tf_cli"]


def _documented_extras() -> set[str]:
    """Extras that README.md, saved_models/, docs/ and the package's own messages tell users to install."""
    documented = set()
    for path in [ROOT / "README.md", *ROOT.glob("saved_models/*.md"), *ROOT.glob("docs/**/*.md"),
                 *ROOT.glob("vlae_tf/**/*.py"), *ROOT.glob("trainers/*.py")]:
        for extras in re.findall(r"pip install '?vlae_tf\[([a-z_,-]+)\]", path.read_text(encoding="utf-8")):
            documented |= set(extras.split(","))
    return documented


def test_every_documented_extra_exists(metadata):
    documented = _documented_extras()
    assert "serving" in documented  # saved_models/README.md names it today
    assert documented <= set(metadata["extras"]), f"documented but not defined: {documented - set(metadata['extras'])}"
    serving = {_dist_name(r) for r in metadata["requires"] if re.search(r"extra == [\"']serving[\"']", r)}
    assert {"tensorflow-serving-api", "grpcio"} <= serving


def _third_party_imports() -> dict[str, str]:
    """{top-level module: a file importing it} for every non-stdlib, non-project import in the package."""
    found = {}
    for folder in INSTALLED_SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ("vlae_tf", "trainers", "__future__"):
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_directly_imported_package_is_a_core_requirement(metadata):
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(_third_party_imports().items()):
        providers = {re.sub(r"[-_.]+", "-", d).lower() for d in distributions.get(module, [module])}
        if not providers & metadata["core"]:
            missing.append(f"{module} (imported in {where}, provided by {sorted(providers)})")
    assert not missing, f"imported but not in install_requires: {missing}"


def test_console_scripts_resolve_to_callables_in_the_cli_package(metadata):
    assert set(metadata["scripts"]) == {"vlae-train", "vlae-eval", "vlae-compare", "vlae-export",
                                        "vlae-serve-request"}
    for script, target in metadata["scripts"].items():
        module, _, attr = target.partition(":")
        assert module.startswith("vlae_tf_cli."), f"{script} -> {target}"
        # vlae_tf_cli is the checkout's trainers/ folder (package_dir): the same file under its installed name.
        source = ROOT / "trainers" / (module.rsplit(".", 1)[1] + ".py")
        assert source.exists(), f"{script} -> {target}: no {source}"
        try:
            loaded = importlib.import_module(module)
        except ModuleNotFoundError as err:
            pytest.fail(f"{script} -> {target} does not import ({err}); an install older than setup.py? "
                        "re-run pip install -e .")
        assert callable(getattr(loaded, attr)), f"{script} -> {target} is not callable"


def test_console_script_modules_parse_arguments_without_loading_tensorflow():
    # The installed entry points must not sit inside vlae_tf: its __init__ imports TensorFlow (seconds and
    # start-up noise) before --help could answer.
    code = ("import sys, vlae_tf_cli.train as t; t.build_parser().parse_args(['--steps', '3']); "
            "print(sorted(m for m in ('tensorflow', 'keras', 'vlae_tf') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
