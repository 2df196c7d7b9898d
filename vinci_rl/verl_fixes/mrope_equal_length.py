"""verl 0.9.1 bug with vision-language models when every sequence of a batch has the same length.

Upstream: verl-project/verl#7899 (fix proposed in #7901). VLMs with mRoPE carry per-sample position ids of
shape (C, L) (C = 3 or 4 rows). verl stacks them as a jagged nested tensor; when all L are equal,
`torch.nested.as_nested_tensor` makes the *channel* axis ragged (values (B*C, L), `_ragged_idx` 1).
`verl.utils.tensordict_utils.maybe_fix_3d_position_ids` then forces `_ragged_idx = 2` unconditionally, the
tensor no longer matches its own offsets, and `update_actor` dies when the batch is split
(`index_select_tensor_dict` → split_with_sizes / "Expected cond to be True"). A random tiny model that always
hits the max response length triggers it on every step.

Fix: rebuild such a tensor in the sequence-ragged layout verl expects everywhere else (values (C, sum L),
`_ragged_idx` 2); leave the sequence-ragged case as verl handles it.
"""

from __future__ import annotations

import sys


_PATCHED_MODULES = ("verl.workers.engine_workers", "verl.workers.engine.base", "verl.workers.engine_workers_tinker")


def maybe_fix_3d_position_ids(data) -> None:
    from verl.utils.tensordict_utils import nested_tensor_from_tensor_list

    if "position_ids" not in data.keys():
        return
    pos = data["position_ids"]
    if pos.dim() != 3 or not pos.is_nested:
        return
    values, offsets = pos.values(), pos.offsets()
    sequence_ragged = values.dim() == 2 and values.shape[1] == int(offsets[-1])
    if sequence_ragged:
        pos._ragged_idx = 2  # what verl does: restore the index lost by TensorDict consolidate + pickle
        return
    # channel-ragged (values (B*C, L)): the equal-length layout; re-stack along the sequence axis
    rows = [values[int(offsets[i]) : int(offsets[i + 1])] for i in range(len(offsets) - 1)]
    data["position_ids"] = nested_tensor_from_tensor_list(rows, ragged_idx=2)


def apply() -> None:
    import verl.utils.tensordict_utils as tu

    tu.maybe_fix_3d_position_ids = maybe_fix_3d_position_ids
    # modules that imported the function by name before this ran
    for name in _PATCHED_MODULES:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "maybe_fix_3d_position_ids"):
            module.maybe_fix_3d_position_ids = maybe_fix_3d_position_ids


__all__ = ["apply", "maybe_fix_3d_position_ids"]
