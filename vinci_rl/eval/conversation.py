"""A test row's conversation with the model over several turns (`vinci-rl eval --turns`): the task's prompt and
image, then, after each answer, the feedback turn that followed it (the render of that answer as an image, then the
feedback text), in the layout the `vinci_refine_agent` agent loop shows the model during training.

Each generation backend turns a conversation into its own messages: transformers chat messages
(local_model.local_chat) or OpenAI chat messages for a vLLM server (server_chat, here). Both take a list of
conversations and return one reply each.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from vinci_rl.eval.predictions import PredictionError, ServerConfig, _client, chat_messages, resolve_model


@dataclass
class Conversation:
    prompt: str  # the task's user turn, <image> where the task's image goes
    images: list[bytes]  # PNGs: the task's image, then the render shown after each answer
    replies: list[str] = field(default_factory=list)  # the model's answers so far
    feedback: list[str] = field(default_factory=list)  # the text of each feedback turn (after its image)

    def add_feedback(self, png: bytes, text: str) -> None:
        """The feedback turn after the latest answer: its render (PNG) and text."""
        if len(self.feedback) != len(self.replies) - 1:
            raise ValueError(f"a feedback turn follows an answer: {len(self.replies)} answers, {len(self.feedback)} feedback turns")
        self.images.append(png)
        self.feedback.append(text)


def openai_messages(conv: Conversation) -> list[dict[str, Any]]:
    """The conversation as OpenAI chat messages, each image a data: URI where it stands."""
    messages = chat_messages(conv.prompt, conv.images[0])
    for reply, png, text in zip(conv.replies, conv.images[1:], conv.feedback):
        messages.append({"role": "assistant", "content": reply})
        messages += chat_messages("<image>" + text, png)
    return messages


class ServerChat:
    """Replies from an OpenAI-compatible (vLLM) server, `concurrency` requests in flight. A failed request is an
    empty reply (scored as a failure) and its error is kept in `errors`; every request of a call failing raises."""

    def __init__(self, cfg: ServerConfig, progress: bool = True):
        resolve_model(cfg)
        self.cfg, self.progress = cfg, progress
        self.complete = _client(cfg)
        self.errors: list[str] = []

    def _one(self, conv: Conversation) -> tuple[str, str | None]:
        try:
            return self.complete(openai_messages(conv)), None
        except Exception as e:  # one failed request is a failed answer (empty), counted, not fatal
            return "", f"{type(e).__name__}: {e}"[:500]

    def __call__(self, convs: list[Conversation]) -> list[str]:
        with ThreadPoolExecutor(max(1, self.cfg.concurrency)) as pool:
            out = tqdm(pool.map(self._one, convs), total=len(convs), desc="generate", unit="sample", disable=not self.progress)
            results = list(out)
        errors = [e for _, e in results if e]
        if errors and len(errors) == len(results):
            raise PredictionError(f"every request to {self.cfg.url} failed; first: {errors[0]}")
        self.errors += errors
        return [text for text, _ in results]
