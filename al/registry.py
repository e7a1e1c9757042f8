"""Strategy registry: short names, families ``prefix:NAME`` and ``module:Class`` paths.

Every strategy, the built-in ones included, is found through the entry points
of installed distributions; the registry never imports a strategy package by
itself:

``al.strategies``
    ``name = package.module:Class``, asked for as ``--strategy name``.
``al.strategy_families``
    ``prefix = package.module:factory``, serving ``--strategy prefix:NAME``;
    ``factory(NAME)`` returns the Strategy class or raises
    :class:`~al.errors.ConfigError` for a name it does not know.

The built-ins are declared in the ``[options.entry_points]`` of ``al``'s own
``setup.cfg`` (so a checkout must be installed, ``pip install -e .``, and
reinstalled after that section changes). A name's module is imported when the
name is asked for, not before. Importing a module may also register names with
:func:`register` / :func:`register_prefix` (a user's ``module:Class`` path, a
notebook), but nothing depends on that.

A module that fails to import does not take the registry with it: every other
name still works, asking for the broken one raises a ConfigError naming the
module and its error, and :func:`load_errors` lists the failures seen so far.
Likewise a name that two distributions declare (a plugin's ``random`` beside
ours) is refused when asked for, naming both, and never silently replaced.
"""
from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from importlib.machinery import PathFinder
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, Callable, Sequence, TypeVar

from al.errors import ALError, ConfigError, and_more, did_you_mean, exception_text, raised_at
from al.strategy import Strategy, check_requires

STRATEGY_GROUP = "al.strategies"
FAMILY_GROUP = "al.strategy_families"
#: Former name of :data:`STRATEGY_GROUP`.
ENTRY_POINT_GROUP = STRATEGY_GROUP

Factory = Callable[[str], type[Strategy]]

_REGISTRY: dict[str, type[Strategy]] = {}
_PREFIXES: dict[str, Factory] = {}
_FAILED: dict[str, str] = {}
#: Per (package, its folders, sys.path): the folders when they hide another package of that name.
_HIDING: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
#: Per (group, sys.path with each entry's mtime): the entry points by name, and the one-line refusal of each name
#: two distributions declare with different targets. A scan costs about 33 ms, a grid asks thousands of times.
_SCANS: dict[tuple[str, tuple[tuple[str, int], ...]], tuple[dict[str, EntryPoint], dict[str, str]]] = {}

S = TypeVar("S", bound=type[Strategy])


def register(name: str) -> Callable[[S], S]:
    """Class decorator: make a strategy available as ``--strategy name`` once its module is imported.

    Installed packages declare an ``al.strategies`` entry point instead (see
    the module docstring); this decorator serves modules that are imported
    anyway.
    """

    def decorate(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise TypeError(f"@register({name!r}) expects a Strategy subclass, got {cls!r}")
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ConfigError(f"strategy name {name!r} is taken by {existing.__module__}.{existing.__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def register_prefix(prefix: str) -> Callable[[Factory], Factory]:
    """Decorator for a factory that serves a family ``prefix:NAME`` (e.g. ``smalltext:BreakingTies``).

    The factory takes ``NAME`` and returns a Strategy class, raising
    :class:`ConfigError` for names it does not know. Installed packages declare
    an ``al.strategy_families`` entry point instead. A factory may carry
    ``names``, the names it serves (a sequence of str, or a callable returning
    one): ``--list-strategies`` and its errors then list them
    (:func:`family_names`).
    """

    def decorate(factory: Factory) -> Factory:
        _PREFIXES[prefix] = factory
        return factory

    return decorate


def _declared(group: str) -> dict[str, EntryPoint]:
    """Entry points of ``group`` by name (a name two distributions declare: the first; see :func:`_clash`)."""
    return dict(_scan(group)[0])


def _scan(group: str) -> tuple[dict[str, EntryPoint], dict[str, str]]:
    """Entry points of ``group`` by name, and the one-line refusal of each name two distributions declare
    with different targets.

    The scan is kept until ``sys.path`` or the modification time of one of
    its directories changes (a package installed or removed there changes it),
    the same signal :mod:`importlib.metadata` itself trusts.
    """
    key = (group, tuple((entry, _mtime(entry)) for entry in sys.path))
    if key not in _SCANS:
        found: dict[str, EntryPoint] = {}
        clashes: dict[str, str] = {}
        for ep in entry_points(group=group):
            first = found.setdefault(ep.name, ep)
            if first.value != ep.value and ep.name not in clashes:
                clashes[ep.name] = (
                    f"entry point {ep.name!r} of {group} is declared by two distributions: {_origin(first)} and "
                    f"{_origin(ep)}; uninstall one, or rename the plugin's entry point"
                )
        _SCANS[key] = found, clashes
    return _SCANS[key]


def _clash(group: str, name: str) -> None:
    """Refuse a name that two installed distributions declare with different targets.

    Raises
    ------
    ConfigError
        Naming both distributions and their ``module:attr``.
    """
    message = _scan(group)[1].get(name)
    if message is not None:
        raise ConfigError(message)


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name if dist is not None else 'an unknown distribution'} ({ep.value})"


def _mtime(path: str) -> int:
    try:
        return os.stat(path or ".").st_mtime_ns
    except OSError:
        return -1


def available() -> list[str]:
    """Every strategy name that can be asked for, sorted; families as ``prefix:*``.

    Reads entry points only: no strategy module is imported, so a broken one
    does not hide the others (asking for it then says what is wrong).
    """
    families = set(_PREFIXES) | set(_declared(FAMILY_GROUP))
    return sorted(set(_REGISTRY) | set(_declared(STRATEGY_GROUP)) | {f"{p}:*" for p in families})


def load_errors() -> dict[str, str]:
    """Names (``name`` or ``prefix:*``) whose module failed to import when asked for, with the error."""
    return dict(_FAILED)


def get_strategy(spec: str) -> type[Strategy]:
    """The strategy class for ``spec``: a registered name, ``prefix:NAME`` of a
    registered family, or ``package.module:Class``.

    Raises
    ------
    ConfigError
        Unknown name (listing the known ones), a name whose module fails to
        import (naming the module and its error), an unimportable
        ``module:Class`` path, or a class that is not a :class:`~al.strategy.Strategy`.
    """
    prefix, sep, member = spec.partition(":")
    if sep:
        factory = _family(prefix)
        if factory is not None:
            try:
                made = factory(member)
            except ALError as exc:  # its own refusal: with the names it serves, where it does not give them
                names = family_names(prefix)
                if not names or _names_given(str(exc), member, names):
                    raise
                raise ConfigError(f"{exc}; {_names_text(names, member)}") from None
            except Exception as exc:  # noqa: BLE001 - a plugin's factory should raise ConfigError; any error is one line
                names = family_names(prefix)
                known = (_names_text(names, member) if names else
                         f"see {prefix}:* in --list-strategies, and the family's documentation, for its names")
                raise ConfigError(f"strategy {spec!r} could not be made: the factory of family {prefix!r} raised "
                                  f"{exception_text(exc)}{raised_at(exc)}; {known}") from exc
            return _check_class(made, spec)
        alike = [f for f in sorted(set(_PREFIXES) | set(_declared(FAMILY_GROUP))) if _plain(f) == _plain(prefix)]
        if alike:  # modAL:margin_sampling, small-text:BreakingTies: the library's own spelling of a family's name
            raise ConfigError(f"strategy {spec!r}: {prefix!r} is no strategy family (did you mean "
                              f"{alike[0]}:{member}?); families are named in --list-strategies")
        return _from_path(spec)
    declared = _declared(STRATEGY_GROUP)
    if spec in declared:
        _clash(STRATEGY_GROUP, spec)
        return _check_class(_load(declared[spec], spec, f"strategy {spec!r}"), f"entry point {spec!r}", spec)
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    raise ConfigError(_unknown(spec))


def spec_of(cls: type) -> str:
    """The name ``--strategy`` knows ``cls`` by: its entry point's name, the family member or path it was loaded
    as (``smalltext:BreakingTies``), or ``module:Class`` (``__main__:Mine`` for a class of the script that runs
    it: found while that script runs). A name given by ``@register`` alone is not one: another process knows it
    only once the module is imported."""
    target = f"{cls.__module__}:{cls.__qualname__}"
    registered = [name for name, ep in _declared(STRATEGY_GROUP).items() if ep.value.replace(" ", "") == target]
    if registered:
        return registered[0]
    loaded = vars(cls).get("name")
    return loaded if isinstance(loaded, str) and ":" in loaded else target


def _plain(name: str) -> str:
    """``name`` lower-cased without ``-``, ``_`` and ``.``: how a family's name and a library's spelling of it
    (``modAL``, ``small-text``) are compared."""
    return re.sub(r"[-_.]", "", name.lower())


def family_names(prefix: str) -> list[str] | None:
    """The names family ``prefix`` serves, from its factory's ``names``; None where it gives none (or none that
    reads as a list of names). Loads the family's module.

    Raises
    ------
    ConfigError
        If the family's module cannot be loaded.
    """
    factory = _family(prefix)
    names = getattr(factory, "names", None)
    try:
        names = names() if callable(names) else names
        listed = [str(name) for name in names] if names is not None and not isinstance(names, str) else None
    except Exception:  # noqa: BLE001 - a plugin's list that cannot be read: its errors say less, nothing breaks
        return None
    return listed or None


def _names_given(message: str, member: str, names: Sequence[str]) -> bool:
    """Whether a family's refusal of ``member`` names any of the family's ``names`` itself: as a whole word, outside
    the name asked for (``lc`` of ``lc:x`` is none; nor is the ``a`` of ``alpha`` for a member ``a``)."""
    def word(text: str) -> str:
        return rf"(?<![\w:-]){re.escape(text)}(?![\w:-])"

    said = re.sub(word(member), "", message)
    return any(re.search(word(name), said) for name in names)


def _names_text(names: Sequence[str], member: str) -> str:
    """``its names: a, b (did you mean a?)`` for a family's error about ``member``: at most 12 named."""
    return f"its names: {', '.join(names[:12])}{and_more(len(names), 12)}{did_you_mean([member], names)}"


def _family(prefix: str) -> Factory | None:
    declared = _declared(FAMILY_GROUP)
    if prefix in declared:
        _clash(FAMILY_GROUP, prefix)
        factory = _load(declared[prefix], f"{prefix}:*", f"strategy family {prefix!r}")
        if not callable(factory):
            raise ConfigError(
                f"entry point {prefix!r} of {FAMILY_GROUP} is {factory!r}; expected a factory NAME -> Strategy class"
            )
        return factory
    return _PREFIXES.get(prefix)


def _load(ep: EntryPoint, key: str, what: str) -> Any:
    """``ep``'s object; a failure is remembered under ``key`` and raised as ConfigError."""
    where = f" (entry point of distribution {ep.dist.name})" if getattr(ep, "dist", None) is not None else ""
    try:
        module = importlib.import_module(ep.module)
    except Exception as exc:  # noqa: BLE001 - any error inside a plugin's module is reported, not raised
        message = (f"{what} could not be loaded: module {ep.module} failed to import: {exception_text(exc)}"
                   f"{where}{_shadowed(ep.module)}")
        _FAILED[key] = message
        raise ConfigError(message) from exc
    taken = _taken_from_hiding_folder(ep.module, module)
    if taken:
        message = f"{what} could not be loaded: module {ep.module} is {taken}{where}{_shadowed(ep.module)}"
        _FAILED[key] = message
        raise ConfigError(message)
    obj: Any = module
    for attr in ep.attr.split(".") if ep.attr else ():
        if not hasattr(obj, attr):
            message = f"{what} could not be loaded: module {ep.module} has no attribute {ep.attr!r}{where}"
            _FAILED[key] = message
            raise ConfigError(message)
        obj = getattr(obj, attr)
    _FAILED.pop(key, None)
    return obj


def _shadowed(module: str) -> str:
    """``; /cwd/strategies.py hides the package ...`` when a file or a folder took the name of ``module``'s package.

    A user's ``strategies.py`` in the working directory is imported instead
    of the package ``strategies`` the built-ins live in, and every
    ``strategies.x`` then fails to import; a user's ``strategies/`` folder (a
    package or a namespace package) is imported instead of it likewise, and
    ``strategies.x`` is then looked for in that folder.
    """
    for depth in range(1, module.count(".") + 1):
        parent = ".".join(module.split(".")[:depth])
        found = sys.modules.get(parent)
        if found is not None and not hasattr(found, "__path__"):
            origin = getattr(found, "__file__", None) or repr(found)
            return f"; {origin} hides the package {parent!r} that module belongs to: rename your file"
        folders = _hiding_folders(parent)
        if folders:
            return f"; {', '.join(folders)} hides the package {parent!r} that module belongs to: rename your folder"
    return ""


def _hiding_folders(package: str) -> list[str]:
    """The folders of the imported package ``package`` when they hide another package of that name, else [].

    Another is a regular package the import system finds without the imported
    one's folders: later on ``sys.path`` (an installed package) or by a finder
    of its own (an editable install's). Only folders of an imported package
    are looked at, and once per ``sys.path``. A folder beside the ``al``
    package this process imported is the project's own (a second checkout or
    a worktree run from its root, as benchmarks compare old code with new).
    """
    found = sys.modules.get(package)
    project = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # the folder holding this al/
    # a folder beside the al/ this process runs is a copy of the project (a checkout, a worktree), not a user's
    folders = sorted(f for f in getattr(found, "__path__", None) or []
                     if os.path.dirname(os.path.realpath(f)) != project)
    if not folders:
        return []
    key = (package, tuple(folders), tuple(sys.path))
    if key not in _HIDING:
        mine = {os.path.realpath(folder) for folder in folders}
        entries = [entry for entry in sys.path
                   if os.path.realpath(os.path.join(entry or os.getcwd(), package)) not in mine]
        _HIDING[key] = []
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            try:
                spec = find_spec(package, entries if finder is PathFinder else None)
            except Exception:  # noqa: BLE001 - a finder failing on this question knows of no other package
                continue
            if spec is None or spec.origin in (None, "namespace"):  # nothing, or a namespace package: not hidden
                continue
            other = {os.path.realpath(folder) for folder in spec.submodule_search_locations or ()}
            if other and not other & mine:
                _HIDING[key] = folders
                break
    return _HIDING[key]


def _taken_from_hiding_folder(name: str, module: ModuleType) -> str:
    """``module``'s file when it lies in a folder that hides its package (an entry point's ``strategies.x`` read
    from a user's ``strategies/``, not from the distribution that declared it), else ''."""
    path = getattr(module, "__file__", None)
    if path is None or "." not in name:
        return ""
    for depth in range(1, name.count(".") + 1):
        for folder in _hiding_folders(".".join(name.split(".")[:depth])):
            if os.path.realpath(path).startswith(os.path.join(os.path.realpath(folder), "")):
                return path
    return ""


def _unknown(spec: str) -> str:
    known = available()
    if not known:
        return (
            f"unknown strategy {spec!r}, and no strategy is registered at all: the entry-point groups "
            f"{STRATEGY_GROUP} and {FAMILY_GROUP} are empty, so al's installed metadata is missing or stale; "
            f"reinstall it (`pip install -e .` in the checkout) or pass package.module:Class"
        )
    module, _, attr = spec.rpartition(".")
    if module and attr[:1].isupper() and ":" not in spec and PathFinder.find_spec(module.split(".")[0]) is not None:
        return (f"unknown strategy {spec!r}; a class in a module is written with a colon: {module}:{attr}")
    found = PathFinder.find_spec(spec) if spec.isidentifier() else None
    if spec.isidentifier() and spec not in sys.stdlib_module_names and (
            os.path.isfile(f"{spec}.py")
            or found is not None and found.origin not in (None, "namespace")):  # a user's module (not a bare folder)
        return (f"unknown strategy {spec!r}; a module of that name can be imported: name its strategy class with a "
                f"colon, {spec}:ClassName (a wrong name lists the module's classes)")
    return f"unknown strategy {spec!r}{did_you_mean([spec], known)}; known: {', '.join(known)}; or pass package.module:Class"


def _from_path(spec: str) -> type[Strategy]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"strategy path {spec!r} must look like package.module:ClassName")
    if "/" in module_name or "\\" in module_name or (module_name.endswith(".py") and os.path.isfile(module_name)):
        path = os.path.splitext(module_name.replace("\\", "/"))[0]
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if not os.path.isabs(path) and all(part.isidentifier() for part in parts):  # a module below this folder
            dotted = ".".join(parts)
            raise ConfigError(f"strategy {spec!r} names a file; name its module instead: {dotted}:{attr}, with the "
                              f"folder holding {parts[0]} on PYTHONPATH (or as the working directory)")
        folder, stem = os.path.dirname(path) or ".", os.path.basename(path)  # absolute, or no dotted name
        if not stem.isidentifier():
            name = re.sub(r"\W", "_", stem)
            name = name if name.isidentifier() else f"m_{name}"
            raise ConfigError(f"strategy {spec!r} names a file whose name is no module name; rename it, e.g. to "
                              f"{name}.py, and give {name}:{attr}, with its folder on PYTHONPATH "
                              f"(PYTHONPATH={folder}) or run from {folder}")
        raise ConfigError(f"strategy {spec!r} names a file; name its module instead: {stem}:{attr}, with its folder "
                          f"on PYTHONPATH (PYTHONPATH={folder}) or run from {folder}")
    parents = {".".join(module_name.split(".")[:depth]) for depth in range(1, module_name.count(".") + 2)}
    try:
        module = _import_user_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name not in parents:  # the module was found, and it imports one that is not there
            raise ConfigError(f"strategy {spec!r} could not be loaded: module {module_name} failed to import: "
                              f"{exception_text(exc)}{raised_at(exc)}") from exc
        raise ConfigError(f"cannot import module {module_name!r} for strategy {spec!r}: {exc}"
                          f"{_shadowed(module_name) or '; run from the folder holding it, or add that folder to PYTHONPATH'}"
                          ) from None
    except Exception as exc:  # noqa: BLE001 - any error inside a user's module is reported, not raised
        raise ConfigError(f"strategy {spec!r} could not be loaded: module {module_name} failed to import: "
                          f"{exception_text(exc)}{raised_at(exc)}") from exc
    cls = getattr(module, attr, None)
    if cls is None and module_name == "__main__":  # a script's own class, named where the script does not run
        here = module.__spec__.name if getattr(module, "__spec__", None) else "this command"
        raise ConfigError(f"strategy {spec!r} is a class of the script that ran it, and {here} runs here as "
                          f"__main__, not that script; move the class into a module of its own (mystrategies.py) "
                          f"and give mystrategies:{attr}, or run it from that script (al.simulate.run)")
    if cls is None:
        subclasses = sorted(name for name, value in vars(module).items()
                            if isinstance(value, type) and issubclass(value, Strategy) and value is not Strategy
                            and value.__module__ == module.__name__ and not name.startswith("_")
                            and not getattr(value, "__abstractmethods__", None))
        # those that would be refused if named (query(self, state), requires a string) are said apart
        classes = [name for name in subclasses if _loadable(getattr(module, name), f"{module_name}:{name}")]
        refused = [name for name in subclasses if name not in classes]
        if (hidden := _hidden_user_file(module_name, attr)) is not None:
            raise ConfigError(f"module {module_name!r} has no attribute {attr!r}: {hidden}")
        listed = f"; its strategies: {', '.join(classes)}" if classes else ""
        if refused:
            listed += (f"{'; and' if classes else '; its Strategy subclasses'} {', '.join(refused)}, refused if "
                       f"named (name one to see why)")
        listed = listed or "; it defines no Strategy subclass"
        raise ConfigError(f"module {module_name!r} has no attribute {attr!r}"
                          f"{did_you_mean([attr], [*classes, *refused])}{listed}")
    return _check_class(cls, spec)


def _loadable(cls: type, spec: str) -> bool:
    """Whether ``cls``, named ``spec``, passes the checks a strategy's class gets when named (:func:`_check_class`),
    left unnamed."""
    try:
        _check_class(cls, spec, name_it=False)
    except ConfigError:
        return False
    return True


def _hidden_user_file(module_name: str, attr: str) -> str | None:
    """Why a user's ``NAME.py`` (or ``NAME/``) in the working directory is not the module ``NAME`` imported: one of
    the standard library, an installed package or al itself took the name first; None where nothing is hidden."""
    top = module_name.split(".")[0]
    imported = getattr(sys.modules.get(top), "__file__", None)
    mine = next((path for path in (os.path.join(os.getcwd(), f"{top}.py"),
                                   os.path.join(os.getcwd(), top, "__init__.py")) if os.path.isfile(path)), None)
    if mine is None or imported is None or os.path.realpath(imported) == os.path.realpath(mine):
        return None
    whose = ("the package al itself" if top == "al" else "the standard library's module" if
             top in sys.stdlib_module_names else "an installed package")
    shown = os.path.relpath(mine) if mine.endswith(".py") else f"{os.path.relpath(os.path.dirname(mine))}/"
    return (f"{top!r} is {whose} ({imported}), which hides your {shown}, as Python imports the first {top!r} it "
            f"finds; rename your file, e.g. to my_{top}.py, and give my_{top}:{attr}"
            if mine.endswith(".py") else
            f"{top!r} is {whose} ({imported}), which hides your {shown}, as Python imports the first {top!r} it "
            f"finds; rename your folder")


def _import_user_module(module_name: str) -> ModuleType:
    """``module_name`` imported; one found nowhere on ``sys.path`` is looked for in the working directory.

    ``python -m al.simulate`` has the working directory on ``sys.path``, an
    installed console script (``al-simulate``) does not: both find a user's
    ``mystrategies.py`` there. The directory is appended, so it never hides
    an installed package.
    """
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        cwd = os.getcwd()
        if exc.name != module_name.split(".")[0] or cwd in {os.path.abspath(p) for p in sys.path}:
            raise
        sys.path.append(cwd)
        importlib.invalidate_caches()
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as again:
            if again.name == exc.name:  # not there either: leave sys.path as it was
                sys.path.remove(cwd)
            raise


def _check_class(cls: object, where: str, name: str | None = None, name_it: bool = True) -> type[Strategy]:
    """``cls`` checked as a Strategy subclass with known ``requires``; then, where ``name_it``, named ``name`` (or
    ``module:Class``) unless it sets ``name`` itself: a subclass of a built-in does not answer to the built-in's
    name."""
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        if isinstance(cls, Strategy):
            fix = (f"name its class, {type(cls).__name__}, not an instance of it (parameters come from "
                   f"--strategy-param)")
        elif inspect.isfunction(cls):  # a family's factory, perhaps: it is served by name, not by path
            fix = ("name a class that subclasses al.strategy.Strategy; a function that returns one for a name (a "
                   "family's factory) is served as FAMILY:NAME once registered under al.strategy_families (see "
                   "the README's 'Writing a strategy')")
        else:
            fix = "name a class that subclasses al.strategy.Strategy and defines query(self, state, n)"
        shown = f"the function {cls.__qualname__}" if inspect.isfunction(cls) else repr(cls)
        raise ConfigError(f"{where} is {shown}, not a subclass of al.strategy.Strategy; {fix}")
    label = vars(cls).get("name") or name or f"{cls.__module__}:{cls.__qualname__}"
    _check_query_signature(cls, label)
    check_requires(cls, f"strategy {label!r}")
    _check_run_params(cls, label)
    if name_it and not vars(cls).get("name"):
        cls.name = label
    return cls


def _check_query_signature(cls: type[Strategy], label: str) -> None:
    """``query`` must take ``(state, n)`` as the engine passes them, checked on load rather than after the data
    and the first fit (an abstract, missing ``query`` is said when the class is made)."""
    import inspect

    query = getattr(cls, "query", None)
    if not callable(query) or getattr(query, "__isabstractmethod__", False):
        return
    bound = isinstance(inspect.getattr_static(cls, "query"), (staticmethod, classmethod))  # no self to pass
    try:
        signature = inspect.signature(query)
        signature.bind(*(() if bound else (None,)), None, 1)  # (self,) state, n
    except TypeError:
        raise ConfigError(f"strategy {label!r} defines query{signature}; expected query(self, state, n): the "
                          f"loop calls strategy.query(state, n) with the round's PoolState and how many texts to "
                          f"pick") from None
    except ValueError:  # no signature to read
        pass


def _check_run_params(cls: type[Strategy], label: str) -> None:
    """``run_params`` must map constructor parameters to run settings (``{"device": "device"}``), checked on load."""
    from al.config import config_fields

    run_params = cls.run_params
    if not isinstance(run_params, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in run_params.items()):
        raise ConfigError(f"strategy {label!r} has run_params {run_params!r}; expected a dict of constructor "
                          f"parameter -> run setting, e.g. {{'device': 'device'}}")
    settings = config_fields()
    unknown = sorted(v for v in run_params.values() if v not in settings)
    if unknown:
        raise ConfigError(f"strategy {label!r} has run_params naming {', '.join(map(repr, unknown))}, not a run "
                          f"setting{did_you_mean(unknown, settings)}; a run setting is a field of al.config.SimulationConfig")
