"""Which attention kernels a forward pass may take: cuDNN's off on a GPU alone, restored after (no GPU needed)."""
from __future__ import annotations

import threading

import pytest

torch = pytest.importorskip("torch")

from al.device import cudnn_attention_off  # noqa: E402

flags = torch.backends.cuda
if not hasattr(flags, "enable_cudnn_sdp"):  # torch < 2.3: no cuDNN attention, nothing to turn off
    pytest.skip("this torch has no cuDNN attention backend", allow_module_level=True)


@pytest.fixture(autouse=True)
def cudnn_attention_on():
    """Every test starts and ends with torch's default: cuDNN's attention allowed."""
    flags.enable_cudnn_sdp(True)
    yield
    flags.enable_cudnn_sdp(True)


def test_on_a_gpu_cudnn_attention_alone_is_off_inside_and_back_on_after():
    with cudnn_attention_off("cuda"):
        assert not flags.cudnn_sdp_enabled()
        assert flags.mem_efficient_sdp_enabled() and flags.flash_sdp_enabled() and flags.math_sdp_enabled()
    assert flags.cudnn_sdp_enabled()


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_on_a_cpu_nothing_changes(device):
    with cudnn_attention_off(device):
        assert flags.cudnn_sdp_enabled()


def test_a_user_s_own_choice_is_what_comes_back():
    flags.enable_cudnn_sdp(False)
    with cudnn_attention_off(torch.device("cuda:0")):
        pass
    assert not flags.cudnn_sdp_enabled()


def test_nested_blocks_restore_at_the_outermost_exit_alone():
    with cudnn_attention_off("cuda"):
        with cudnn_attention_off("cuda:1"):
            pass
        assert not flags.cudnn_sdp_enabled()
    assert flags.cudnn_sdp_enabled()


def test_two_threads_blocks_overlapping_leave_it_off_until_both_left_and_on_after():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with cudnn_attention_off("cuda"):
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with cudnn_attention_off("cuda"):
            second_in.set()
            first_out.wait(10)
            seen["after the first left"] = flags.cudnn_sdp_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert seen == {"after the first left": False}
    assert flags.cudnn_sdp_enabled()


def test_an_exception_in_the_block_still_restores():
    with pytest.raises(ValueError), cudnn_attention_off("cuda"):
        raise ValueError("inside")
    assert flags.cudnn_sdp_enabled()


def test_the_bert_classifier_s_forward_passes_take_it_on_a_gpu_and_not_on_a_cpu():
    from al.classifiers.bert import BertClassifier

    clf = BertClassifier(mixed_precision="no")
    clf.device_ = torch.device("cuda")
    with clf._forward_kernels():
        assert not flags.cudnn_sdp_enabled()
    assert flags.cudnn_sdp_enabled()
    clf.device_ = torch.device("cpu")
    with clf._forward_kernels():
        assert flags.cudnn_sdp_enabled()
