"""Chat rendering shared by the backends that tokenize prompts themselves.

``hf``, ``vllm`` and ``openai`` (its ``/v1/completions`` endpoint) all render a chat with
``render_chat``, so the three condition the model on identical text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.records import Message


def render_chat(tokenizer: Any, messages: Sequence[Message]) -> str:
    """Return the chat rendered with the tokenizer's chat template, ready for the reply.

    Without a chat template: the messages' contents joined by blank lines, plus a
    trailing blank line.
    """
    if getattr(tokenizer, "chat_template", None):
        return str(tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=True))
    return "\n\n".join(m["content"] for m in messages) + "\n\n"
