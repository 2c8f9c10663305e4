"""The ``openai`` backend's options (a suite's ``server:``, or a judge's): where the
OpenAI-compatible server is and how to talk to it. Here, beside the backends, so that no
backend imports the suite schema."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Server(BaseModel):
    """Options of the ``openai`` backend."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | list[str] = "http://127.0.0.1:8000/v1"

    @field_validator("base_url")
    @classmethod
    def _urls(cls, value: str | list[str]) -> str | list[str]:
        urls = value if isinstance(value, list) else [value]
        if not urls:
            raise ValueError("give at least one URL")
        for url in urls:
            if not re.match(r"^https?://[^\s/]+", url):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value
    api_key_env: str | None = None
    endpoint: Literal["chat", "completions"] = "chat"
    concurrency: int = Field(16, ge=1)
    timeout: float = Field(60.0, gt=0)
    max_retries: int = Field(5, ge=0)
    model: str | None = None
