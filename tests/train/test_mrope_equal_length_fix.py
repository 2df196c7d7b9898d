"""verl#7899: equal-length VLM batches break mRoPE position ids in update_actor. The fix must make the
split that verl does work, and verl's own function must still fail on the same input (else the fix is moot)."""

from __future__ import annotations

import pytest
import torch
from tensordict import TensorDict

import verl.utils.tensordict_utils as tu  # noqa: E402  (import verl first: loads our plugin)
from vinci_rl.verl_fixes.mrope_equal_length import maybe_fix_3d_position_ids


def _equal_length_batch(batch=3, channels=4, length=7):
    pos = [torch.arange(length).repeat(channels, 1) + i for i in range(batch)]
    nested = torch.nested.as_nested_tensor(pos, layout=torch.jagged)  # what verl builds from equal lengths
    return pos, TensorDict({"position_ids": nested, "x": torch.zeros(batch, 2)}, batch_size=batch)


def _verl_original(data):
    if "position_ids" in data.keys() and data["position_ids"].dim() == 3 and data["position_ids"].is_nested:
        data["position_ids"]._ragged_idx = 2


def test_verl_0_9_1_behaviour_breaks_the_split():
    _, td = _equal_length_batch()
    _verl_original(td)
    with pytest.raises(RuntimeError):
        tu.index_select_tensor_dict(td, [0, 2])


@pytest.mark.parametrize("channels", [3, 4])
def test_fix_keeps_equal_length_batches_splittable(channels):
    pos, td = _equal_length_batch(channels=channels)
    maybe_fix_3d_position_ids(td)
    out = tu.index_select_tensor_dict(td, [0, 2])["position_ids"].unbind()
    assert [tuple(t.shape) for t in out] == [(channels, 7), (channels, 7)]
    assert torch.equal(out[0], pos[0]) and torch.equal(out[1], pos[2])


def test_fix_leaves_ragged_batches_as_verl_handles_them():
    pos = [torch.arange(5 + i).repeat(4, 1) for i in range(3)]
    td = TensorDict({"position_ids": tu.nested_tensor_from_tensor_list(pos, ragged_idx=2)}, batch_size=3)
    td["position_ids"]._ragged_idx = 1  # what TensorDict consolidate + pickle leaves behind
    maybe_fix_3d_position_ids(td)
    out = tu.index_select_tensor_dict(td, [1, 2])["position_ids"].unbind()
    assert torch.equal(out[0], pos[1]) and torch.equal(out[1], pos[2])


def test_plugin_installed_the_fix_where_verl_calls_it():
    import verl.workers.engine.base as engine_base
    import verl.workers.engine_workers as engine_workers

    assert tu.maybe_fix_3d_position_ids is maybe_fix_3d_position_ids
    assert engine_base.maybe_fix_3d_position_ids is maybe_fix_3d_position_ids
    assert engine_workers.maybe_fix_3d_position_ids is maybe_fix_3d_position_ids
