"""verl's multi-turn SFT dataset, plus a message-level `loss_mask`: a message with `loss_mask: 0` is context, not
trained. verl 0.9.1's MultiTurnSFTDataset trains every assistant message; a refinement example's first answer is
wrong on purpose (rows.Attempt) and must not be learnt. The field is the one proposed upstream for this
(verl-project/verl#5316); rows without it (every other row) give exactly verl's loss mask.

`vinci-rl sft` uses this class unless the recipe names another in `data.custom_cls` (vinci_rl/train/sft.py):

    data:
      custom_cls:
        path: pkg://vinci_rl.data.sft_dataset
        name: MessageMaskSFTDataset
"""

from __future__ import annotations

from typing import Any

import torch
from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset


class MessageMaskSFTDataset(MultiTurnSFTDataset):
    def _process_single_message(self, index: int, message: dict[str, Any], full_message: list, tools=None, enable_thinking=None):
        input_ids, loss_mask, attention_mask, inputs = super()._process_single_message(
            index, message, full_message, tools=tools, enable_thinking=enable_thinking
        )
        if message.get("loss_mask") is not None and int(message["loss_mask"]) == 0:
            loss_mask = torch.zeros_like(loss_mask)
        return input_ids, loss_mask, attention_mask, inputs
