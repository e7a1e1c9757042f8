"""Strategy registry: names, families, module:Class paths, entry points, broken plugins; the conformance checks."""
from __future__ import annotations

import ast
import re
import importlib
import subprocess
import sys
import textwrap

import pytest

import al.registry as registry
from al.errors import ConfigError, QueryError
from al.registry import available, get_strategy, load_errors
from al.strategy import Strategy
from al.testing import ConformanceError, check_strategy
from strategies.class_embedding import ClassEmbedding
from strategies.random_sampling import RandomSampling
from tests.conftest import REPO, checkout_entry_points

BUILTINS = checkout_entry_points()["al.strategies"]
FAMILIES = checkout_entry_points()["al.strategy_families"]


@pytest.fixture(autouse=True)
def fresh_failures(monkeypatch):
    """Each test starts with no remembered load failure."""
    monkeypatch.setattr(registry, "_FAILED", {})


def test_builtins_are_registered():
    assert {"random", "class_embedding"} <= set(available())
    assert get_strategy("random") is RandomSampling
    assert get_strategy("class_embedding") is ClassEmbedding


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown strategy 'cvris' \(did you mean cvirs\?\); known: .*class_embedding.*random"):
        get_strategy("cvris")


def decorated_names() -> tuple[dict[str, str], dict[str, str]]:
    """``@register("name")`` and ``@register_prefix("prefix")`` in strategies/*.py -> "module:object"."""
    names: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for path in sorted((REPO / "strategies").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Name) and deco.args:
                    target = {"register": names, "register_prefix": prefixes}.get(deco.func.id)
                    if target is not None:
                        target[deco.args[0].value] = f"strategies.{path.stem}:{node.name}"
    return names, prefixes


def test_setup_cfg_declares_every_builtin_strategy_and_family():
    names, prefixes = decorated_names()
    assert set(names) == {"random", "class_embedding", "cvirs", "alps", "dal", "least_confidence", "margin",
                          "max_entropy", "badge", "bald", "coreset", "mmc", "adaptive", "binmin"}
    assert BUILTINS == names
    assert FAMILIES == prefixes == {"smalltext": "strategies.adapters:smalltext_strategy",
                                    "modal": "strategies.adapters:modal_strategy"}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtins_resolve_through_their_entry_points_alone(monkeypatch, name):
    monkeypatch.setattr(registry, "_REGISTRY", {})  # what @register filled is not needed
    monkeypatch.setattr(registry, "_PREFIXES", {})
    module, _, attr = BUILTINS[name].partition(":")
    assert get_strategy(name) is getattr(importlib.import_module(module), attr)
    assert get_strategy(name).name == name
    assert name in available()


def test_families_resolve_through_their_entry_points_alone(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_PREFIXES", {})
    assert {"smalltext:*", "modal:*"} <= set(available())
    assert get_strategy("smalltext:BreakingTies").name == "smalltext:BreakingTies"
    assert get_strategy("modal:margin_sampling").name == "modal:margin_sampling"
    with pytest.raises(ConfigError, match="unknown small-text strategy 'Nope'; supported: .*BreakingTies"):
        get_strategy("smalltext:Nope")


def test_listing_the_strategies_imports_none_of_them():
    code = ("import sys, al.registry; names = al.registry.available(); "
            "print(len(names), sorted(m for m in sys.modules if m == 'strategies' or m.startswith('strategies.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True).stdout
    assert out.split(" ", 1) == [str(len(BUILTINS) + len(FAMILIES)), "[]\n"]


def test_a_builtin_that_fails_to_import_leaves_the_others_working(monkeypatch):
    monkeypatch.delitem(sys.modules, "strategies.dal", raising=False)
    monkeypatch.setitem(sys.modules, "strategies.dal", None)  # Python's own way to make an import fail
    assert set(BUILTINS) <= set(available())
    assert get_strategy("random") is RandomSampling
    with pytest.raises(ConfigError, match=r"^strategy 'dal' could not be loaded: module strategies\.dal failed to "
                                          r"import: ModuleNotFoundError: .*strategies\.dal"):
        get_strategy("dal")
    assert set(load_errors()) == {"dal"}
    assert "module strategies.dal failed to import" in load_errors()["dal"]
    with pytest.raises(ConfigError, match=r"unknown strategy 'dall' \(did you mean dal\?\); known: (.*, )?alps, .*random"):
        get_strategy("dall")


@pytest.fixture
def broken_plugin(tmp_path, monkeypatch):
    """A distribution on sys.path declaring a strategy and a family whose modules raise on import."""
    (tmp_path / "fake_al_plugin.py").write_text("raise RuntimeError('plugin is broken')\n")
    (tmp_path / "fake_al_plugin_ok.py").write_text(textwrap.dedent("""
        from al.strategy import Strategy

        class Last(Strategy):
            def query(self, state, n):
                return state.indices_unlabeled[-n:]
    """))
    dist = tmp_path / "fake_al_plugin-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-al-plugin\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text(
        "[al.strategies]\nbroken = fake_al_plugin:Thing\nlast = fake_al_plugin_ok:Last\n"
        "missing = fake_al_plugin_ok:Missing\n"
        "[al.strategy_families]\nbrokenfamily = fake_al_plugin:factory\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for module in ("fake_al_plugin", "fake_al_plugin_ok"):
        sys.modules.pop(module, None)


def test_a_plugin_that_fails_to_import_is_named_and_the_rest_works(broken_plugin):
    assert {"broken", "last", "brokenfamily:*"} | set(BUILTINS) <= set(available())
    with pytest.raises(ConfigError, match=r"^strategy 'broken' could not be loaded: module fake_al_plugin failed to "
                                          r"import: RuntimeError: plugin is broken \(entry point of distribution "
                                          r"fake-al-plugin\)$"):
        get_strategy("broken")
    with pytest.raises(ConfigError, match=r"^strategy family 'brokenfamily' could not be loaded: module "
                                          r"fake_al_plugin failed to import: RuntimeError: plugin is broken"):
        get_strategy("brokenfamily:Anything")
    with pytest.raises(ConfigError, match="strategy 'missing' could not be loaded: module fake_al_plugin_ok has no "
                                          "attribute 'Missing'"):
        get_strategy("missing")
    assert set(load_errors()) == {"broken", "brokenfamily:*", "missing"}
    assert get_strategy("last").name == "last"  # an entry point names an undecorated class
    assert get_strategy("class_embedding") is ClassEmbedding
    check_strategy(get_strategy("last"))
    from al.simulate import strategy_list

    listed = strategy_list().splitlines()  # why, once: the name starts the line ("broken  cannot be loaded: strategy
    assert (f"{'broken':<18} cannot be loaded: module fake_al_plugin failed to import: RuntimeError: plugin is "
            f"broken (entry point of distribution fake-al-plugin)") in listed  # 'broken' could not be loaded: ...")
    assert f"{'brokenfamily:*':<18} cannot be loaded: module fake_al_plugin failed to import: RuntimeError: plugin " \
        f"is broken (entry point of distribution fake-al-plugin)" in listed


def test_unknown_name_with_nothing_registered_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_PREFIXES", {})
    monkeypatch.setattr(registry, "_declared", lambda group: {})  # as if al's metadata were missing
    with pytest.raises(ConfigError) as info:
        get_strategy("random")
    message = str(info.value)
    assert "known: " not in message
    assert message.startswith("unknown strategy 'random', and no strategy is registered at all")
    assert "pip install -e ." in message


@pytest.fixture
def user_package(tmp_path, monkeypatch):
    """A user's package on sys.path with a strategy, and a distribution exposing it as an entry point."""
    (tmp_path / "mystrategies.py").write_text(textwrap.dedent("""
        from al.strategy import Strategy

        class FirstUnlabeled(Strategy):
            def query(self, state, n):
                return state.indices_unlabeled[:n]

        class NotAStrategy:
            pass

        instance = FirstUnlabeled()

        def make(name):
            return FirstUnlabeled
    """))
    dist = tmp_path / "mystrategies-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mystrategies\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[al.strategies]\nfirst = mystrategies:FirstUnlabeled\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("mystrategies", None)


def test_module_class_path(user_package):
    cls = get_strategy("mystrategies:FirstUnlabeled")
    assert issubclass(cls, Strategy) and cls.__name__ == "FirstUnlabeled"
    check_strategy(cls)


def test_entry_point(user_package):
    assert "first" in available()
    assert get_strategy("first").__name__ == "FirstUnlabeled"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mystrategies:Missing", "has no attribute 'Missing'; its strategies: FirstUnlabeled"),
        ("mystrategies:FirstUnlabelled", "has no attribute 'FirstUnlabelled' \\(did you mean FirstUnlabeled\\?\\)"),
        ("mystrategies:NotAStrategy", "not a subclass of al.strategy.Strategy; name a class that subclasses "
                                      "al.strategy.Strategy and defines query"),
        ("mystrategies:instance", r"is FirstUnlabeled\(\), not a subclass of "
                                  r"al\.strategy\.Strategy; name its class, FirstUnlabeled, not an instance of it"),
        ("no_such_module:X", "cannot import module 'no_such_module'"),
        ("mystrategies:make", r"is the function make, not a subclass of al\.strategy\.Strategy; name a class that "
                              r"subclasses al\.strategy\.Strategy; a function that returns one for a name \(a "
                              r"family's factory\) is served as FAMILY:NAME once registered under "
                              r"al\.strategy_families"),
        ("mystrategies:", "must look like package.module:ClassName"),
    ],
)
def test_bad_paths(user_package, spec, message):
    with pytest.raises(ConfigError, match=message):
        get_strategy(spec)


@pytest.mark.parametrize("name, whose", [("random", "the standard library's module"),
                                         ("al", "the package al itself"), ("numpy", "an installed package")])
def test_a_user_s_file_hidden_by_a_module_of_its_name_is_named(tmp_path, monkeypatch, name, whose):
    """random.py in the working directory: 'module 'random' has no attribute 'Mine'; it defines no Strategy
    subclass' sent the user looking for a class, where the standard library's random had taken the name."""
    import importlib

    monkeypatch.chdir(tmp_path)
    (tmp_path / f"{name}.py").write_text("from al.strategy import Strategy\nclass Mine(Strategy):\n"
                                         "    def query(self, state, n):\n        return state.indices_unlabeled[:n]\n")
    imported = importlib.import_module(name).__file__
    with pytest.raises(ConfigError) as caught:
        get_strategy(f"{name}:Mine")
    assert str(caught.value) == (
        f"module '{name}' has no attribute 'Mine': '{name}' is {whose} ({imported}), which hides your {name}.py, as "
        f"Python imports the first '{name}' it finds; rename your file, e.g. to my_{name}.py, and give my_{name}:Mine")
    (tmp_path / f"{name}.py").unlink()  # no file of that name here: the plain refusal
    with pytest.raises(ConfigError, match=f"module '{name}' has no attribute 'Mine'; it defines no Strategy subclass"):
        get_strategy(f"{name}:Mine")


def test_files_of_the_working_directory_that_python_m_would_import_in_a_module_s_place_are_found(tmp_path):
    from al import shadowing_files

    for name in ("json.py", "numpy.py", "test.py", "turtle.py", "mystrategies.py", "random.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "yaml").mkdir()
    (tmp_path / "yaml" / "__init__.py").write_text("")
    (tmp_path / "email").mkdir()  # a folder that is no package: nothing is imported from it
    # random: imported already, so the standard library's stays; test, turtle: modules no part of al's stack imports
    assert shadowing_files(str(tmp_path), frozenset({"random"})) == ["json.py", "numpy.py", "yaml/"]


def test_python_m_from_a_folder_with_json_py_warns_before_it_fails(tmp_path):
    import subprocess

    (tmp_path / "json.py").write_text("")
    done = subprocess.run([sys.executable, "-m", "al.cache", "--version"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.stderr.startswith("warning: json.py in the working directory has the name of a module that al or a "
                                  "library it uses imports, and python -m imports it in its place: al may fail to "
                                  "start; rename it, or run the installed command (al COMMAND)\n")
    done = subprocess.run([sys.executable, "-P", "-m", "al.cache", "--version"], cwd=tmp_path, capture_output=True,
                          text=True)  # -P: the working directory is not on sys.path, and nothing is said
    assert done.returncode == 0 and done.stderr == ""
    (tmp_path / "json.py").unlink()
    done = subprocess.run([sys.executable, "-m", "al.cache", "--version"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stderr == ""


class Duplicates(Strategy):
    def query(self, state, n):
        return [state.indices_unlabeled[0]] * n


class Unseeded(Strategy):
    def query(self, state, n):
        import numpy as np

        return np.random.default_rng().choice(state.indices_unlabeled, n, replace=False)


class Mutates(Strategy):
    """Writes into the read-only indices through their memory (their flag cannot be unlocked)."""

    def query(self, state, n):
        import ctypes

        ctypes.memmove(state.indices_labeled.ctypes.data, state.indices_unlabeled.ctypes.data, 8)
        return state.indices_unlabeled[1 : n + 1]


class Undeclared(Strategy):
    def query(self, state, n):
        return state.indices_unlabeled[state.proba[state.indices_unlabeled, 0].argsort()[:n]]


class HidesTheViewError(Strategy):
    """Reads an undeclared view and rewords the error: the check goes by type, not by message."""

    def query(self, state, n):
        try:
            state.proba
        except QueryError as exc:
            raise type(exc)("no probabilities here") from None
        return state.indices_unlabeled[:n]


class FailsForItsOwnReason(Strategy):
    def query(self, state, n):
        raise QueryError("model weights are not available offline")


@pytest.mark.parametrize(
    "cls, message",
    [
        (Duplicates, "duplicate"),
        (Unseeded, "not reproducible"),
        (Undeclared, "does not declare"),
        (HidesTheViewError, "does not declare"),
        (Mutates, "changed the state"),
    ],
)
def test_conformance_catches_broken_strategies(cls, message):
    with pytest.raises(ConformanceError, match=message):
        check_strategy(cls)


def test_writing_into_the_state_fails_where_the_strategy_writes():
    class Writes(Strategy):
        def query(self, state, n):
            state.indices_labeled[0] = state.indices_unlabeled[0]
            return state.indices_unlabeled[1 : n + 1]

    with pytest.raises(ValueError, match="read-only"):
        check_strategy(Writes)


def test_conformance_passes_a_strategy_error_through_unchanged():
    # its message says "not available", but it is no view problem: not reported as one
    with pytest.raises(QueryError, match="model weights are not available offline"):
        check_strategy(FailsForItsOwnReason)


def test_random_is_uniform_and_seeded():
    from al.testing import make_state

    state, _ = make_state(n_pool=1000, n_labeled=10)
    picks = RandomSampling().query(state, 500)
    assert len(set(picks.tolist())) == 500 and set(picks) <= set(state.indices_unlabeled)
    # a uniform draw of half the pool hits each half of it about equally
    assert 200 < (picks < 505).sum() < 300


def test_a_scan_is_reused_until_a_path_directory_changes(tmp_path, monkeypatch):
    import importlib.metadata
    import os

    calls = []
    real = importlib.metadata.entry_points

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(registry, "entry_points", counting)
    monkeypatch.setattr(registry, "_SCANS", {})
    monkeypatch.syspath_prepend(str(tmp_path))
    first = registry._declared(registry.STRATEGY_GROUP)
    assert registry._declared(registry.STRATEGY_GROUP) == first and len(calls) == 1  # reused
    # a plugin installed into a directory on sys.path: that directory's mtime moves, the next lookup rescans
    dist = tmp_path / "later_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: later-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[al.strategies]\nlater = later_plugin:Later\n")
    stat = os.stat(tmp_path)
    os.utime(tmp_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert "later" in registry._declared(registry.STRATEGY_GROUP) and len(calls) == 2


def test_a_family_factory_s_own_exception_is_one_config_error_line(monkeypatch):
    """A plugin's factory that raises KeyError for a name it lacks (not the ConfigError it should): one line."""
    def factory(member):
        return {"first": RandomSampling}[member]

    monkeypatch.setitem(registry._PREFIXES, "mine", factory)
    assert get_strategy("mine:first") is RandomSampling
    with pytest.raises(ConfigError, match=r"strategy 'mine:nosuch' could not be made: the factory of family 'mine' "
                                          r"raised KeyError: 'nosuch' \(at .*test_registry.py:\d+\); see mine:\* in "
                                          r"--list-strategies"):
        get_strategy("mine:nosuch")


def test_a_family_that_names_its_members_has_them_listed_and_in_its_errors(monkeypatch):
    """A plugin's family could not tell a user its names: --list-strategies sent them to al's README."""
    from al.simulate import strategy_list

    def factory(member):
        return {"first": RandomSampling, "second": RandomSampling}[member]

    monkeypatch.setitem(registry._PREFIXES, "mine", factory)
    assert "mine:*             a family: mine:NAME names one of its strategies (see the family's documentation)" in \
        strategy_list().splitlines()
    factory.names = lambda: ["first", "second"]
    listed = strategy_list().splitlines()
    at = listed.index("mine:*             a family: mine:NAME names one of its strategies, each below with its params")
    assert listed[at + 1: at + 3] == ["  mine:first", "  mine:second"]  # RandomSampling takes no params
    with pytest.raises(ConfigError, match=r"raised KeyError: 'frist' \(at .*\); its names: first, second \(did you "
                                          r"mean first\?\)$"):
        get_strategy("mine:frist")
    factory.names = "first"  # not a list of names: said as if none were given
    assert registry.family_names("mine") is None

    def refusing(member):  # as a factory should: its own ConfigError, which names none
        raise ConfigError(f"mine has no {member}")

    refusing.names = ("alpha", "beta")
    monkeypatch.setitem(registry._PREFIXES, "mine", refusing)
    with pytest.raises(ConfigError, match=r"^mine has no alpah; its names: alpha, beta \(did you mean alpha\?\)$"):
        get_strategy("mine:alpah")
    with pytest.raises(ConfigError, match=r"^mine has no alpha:x; its names: alpha, beta"):  # 'alpha' is in the
        get_strategy("mine:alpha:x")  # name asked for, not a list the factory gave

    def listing(member):  # a refusal that names them itself: not named twice, whatever the member's letters
        raise ConfigError(f"mine has no {member}; its names: alpha, beta.")

    listing.names = ("alpha", "beta")
    monkeypatch.setitem(registry._PREFIXES, "mine", listing)
    for member in ("a", "alph", "beta:x"):
        with pytest.raises(ConfigError, match=rf"^mine has no {member}; its names: alpha, beta\.$"):
            get_strategy(f"mine:{member}")


def test_run_params_naming_no_run_setting_are_refused_when_the_class_loads(monkeypatch):
    class Typo(Strategy):
        run_params = {"my_seed": "sed"}

        def __init__(self, my_seed: int = 0):
            super().__init__()

        def query(self, state, n):
            return state.indices_unlabeled[:n]

    monkeypatch.setitem(registry._PREFIXES, "mine", lambda member: Typo)
    with pytest.raises(ConfigError, match=r"has run_params naming 'sed', not a run setting \(did you mean seed\?\)"):
        get_strategy("mine:typo")
    Typo.run_params = ["seed"]
    with pytest.raises(ConfigError, match=r"has run_params \['seed'\]; expected a dict of constructor parameter"):
        get_strategy("mine:typo")
    Typo.run_params = {"my_seed": "seed"}
    assert get_strategy("mine:typo") is Typo


@pytest.mark.parametrize(("spec", "dotted"), [("mypkg/bad.py:Dup", "mypkg.bad:Dup"), ("./mypkg/bad:Dup", "mypkg.bad:Dup"),
                                              ("mine.py:Dup", "mine:Dup")])
def test_a_file_path_for_a_strategy_is_told_its_module_name(spec, dotted, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.py").write_text("")
    with pytest.raises(ConfigError, match=rf"strategy '{re.escape(spec)}' names a file; name its module instead: "
                                          rf"{dotted}, with the folder holding {dotted.split('.')[0].split(':')[0]} on "
                                          r"PYTHONPATH"):
        get_strategy(spec)


def test_a_file_whose_name_is_no_module_name_is_told_to_rename_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-strat.py").write_text("")
    with pytest.raises(ConfigError, match=r"^strategy 'my-strat.py:C' names a file whose name is no module name; "
                                          r"rename it, e.g. to my_strat.py, and give my_strat:C, with its folder on "
                                          r"PYTHONPATH \(PYTHONPATH=\.\) or run from \.$"):
        get_strategy("my-strat.py:C")


@pytest.mark.parametrize("spec", ["{tmp}/strat-review/mine.py:Dup", "../up/mine.py:Dup"])
def test_a_file_path_with_no_dotted_module_name_is_told_its_folder(spec, tmp_path, monkeypatch):
    """/tmp/strat-review/mine.py:Dup was told "tmp.strat-review.mine:Dup" with "the folder holding tmp" on
    PYTHONPATH: no module name."""
    monkeypatch.chdir(tmp_path)
    spec = spec.format(tmp=tmp_path)
    folder = spec.rsplit("/", 1)[0]
    with pytest.raises(ConfigError, match=rf"^strategy '{re.escape(spec)}' names a file; name its module instead: "
                                          rf"mine:Dup, with its folder on PYTHONPATH \(PYTHONPATH={re.escape(folder)}\) "
                                          rf"or run from {re.escape(folder)}$"):
        get_strategy(spec)


def test_an_import_error_inside_a_user_s_module_names_its_line_not_a_missing_module(tmp_path, monkeypatch):
    (tmp_path / "badimport.py").write_text("import numpy\nfrom al.strategy import Strategy, topn\n")
    (tmp_path / "needsapackage.py").write_text("\nimport no_such_package_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"^strategy 'badimport:X' could not be loaded: module badimport failed to "
                                          r"import: ImportError: cannot import name 'topn' from 'al.strategy' .*"
                                          rf"\(at {re.escape(str(tmp_path / 'badimport.py'))}:2\)$"):
        get_strategy("badimport:X")
    with pytest.raises(ConfigError, match=r"module needsapackage failed to import: ModuleNotFoundError: No module "
                                          rf"named 'no_such_package_here' \(at .*needsapackage.py:2\)$"):
        get_strategy("needsapackage:X")
    with pytest.raises(ConfigError, match=r"^cannot import module 'notamodule' for strategy 'notamodule:X': No module "
                                          r"named 'notamodule'; run from the folder holding it, or add that folder "
                                          r"to PYTHONPATH$"):
        get_strategy("notamodule:X")


def test_a_syntax_error_in_a_user_s_module_names_its_own_line(tmp_path, monkeypatch):
    """It named "<frozen importlib._bootstrap>:241", the importer, not the file."""
    (tmp_path / "syntaxerr.py").write_text("from al.strategy import Strategy\n\nclass S(Strategy)\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=rf"module syntaxerr failed to import: SyntaxError: .* \(at "
                                          rf"{re.escape(str(tmp_path / 'syntaxerr.py'))}:3\)$"):
        get_strategy("syntaxerr:S")
