"""GPU throughput check: bf16 SFT tokens/s with MFU, and scoring decode tokens/s.

Needs one CUDA GPU and nothing from a model hub: each model is a Llama built
from a config with random weights (SmolLM2-135M's and Llama-3.2-1B's
dimensions), with a word-level tokenizer made in the script. Training goes
through data-agent's own trainer (TRL SFTTrainer, full fine-tuning, bf16
autocast), scoring through its own greedy decoder. MFU counts 6 * parameters *
tokens against the bf16 matmul peak measured in the same run (an 8192^2 matmul)
and against the nominal peak given with ``--peak-tflops`` (989 for an H200 SXM,
dense). Fits in about 8 minutes on one H200.

    python scripts/gpu_check.py [--models smollm2-135m,llama-3.2-1b] [--records 512] [--decode-batch 64]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIMS = {
    "smollm2-135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, vocab_size=49152, tie_word_embeddings=True),
    "llama-3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                         num_key_value_heads=8, vocab_size=128256, tie_word_embeddings=True,
                         rope_theta=500000.0),
}


def make_tokenizer(vocab_size: int, folder: Path):
    """A word-level tokenizer of ``vocab_size`` entries (w0, w1, ...) with a chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    vocab = {t: i for i, t in enumerate(specials)}
    for i in range(vocab_size - len(specials)):
        vocab[f"w{i}"] = len(vocab)
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                  unk_token="<unk>")
    tok.chat_template = ("{% for m in messages %}<s> {{ m['role'] }} {{ m['content'] }} </s> {% endfor %}"
                         "{% if add_generation_prompt %}<s> assistant {% endif %}")
    tok.save_pretrained(str(folder))
    return tok


def build(name: str, folder: Path) -> int:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = make_tokenizer(DIMS[name]["vocab_size"], folder)
    cfg = LlamaConfig(**DIMS[name], max_position_embeddings=4096, bos_token_id=tok.bos_token_id,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(str(folder), safe_serialization=True)
    return sum(p.numel() for p in model.parameters())


def matmul_tflops(size: int = 8192, seconds: float = 3.0) -> float:
    import torch

    a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    a @ b
    torch.cuda.synchronize()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        n += 1
    torch.cuda.synchronize()
    return 2 * size ** 3 * n / (time.perf_counter() - t0) / 1e12


def records(n: int, words: int, vocab: int) -> list[dict[str, str]]:
    import random

    rng = random.Random(0)
    w = lambda k: " ".join(f"w{rng.randrange(vocab - 8)}" for _ in range(k))  # noqa: E731
    return [{"instruction": w(16), "input": w(words // 2), "output": w(words // 2)} for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="smollm2-135m,llama-3.2-1b")
    ap.add_argument("--records", type=int, default=512)
    ap.add_argument("--words", type=int, default=480, help="words per record (one token each)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--decode-batch", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=256)
    ap.add_argument("--peak-tflops", type=float, default=989.0, help="nominal dense bf16 peak (H200 SXM: 989)")
    a = ap.parse_args()

    import torch

    if not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA GPU here (torch.cuda.is_available() is False); nothing was run")
    from data_agent.config import TrainConfig
    from data_agent.models import load_model, load_tokenizer
    from data_agent.trainers.decode import greedy_decode
    from data_agent.trainers.sft import train

    measured = matmul_tflops()
    print(f"GPU: {torch.cuda.get_device_name(0)}; bf16 matmul peak measured {measured:.0f} TFLOP/s "
          f"(nominal {a.peak_tflops:.0f})", flush=True)
    for name in [m.strip() for m in a.models.split(",") if m.strip()]:
        if name not in DIMS:
            sys.exit(f"unknown model {name!r} (known: {', '.join(DIMS)})")
        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "model"
            params = build(name, src)
            cfg = TrainConfig(method="full", bf16=True, num_train_epochs=1, per_device_train_batch_size=a.batch,
                              learning_rate=1e-5, max_length=a.words + 64, batching="group_by_length",
                              warmup_ratio=0.0)
            stats = train(src, records(a.records, a.words, DIMS[name]["vocab_size"]), Path(d) / "trained", cfg)
            tps = stats["tokens_per_second"]
            flops = 6 * params * tps / 1e12
            print(f"{name} ({params / 1e6:.0f}M): SFT {stats['precision']} {tps:,.0f} tokens/s over "
                  f"{stats['steps']} steps, loss {stats['first_loss']:.2f} -> {stats['last_loss']:.2f}; "
                  f"{flops:.0f} TFLOP/s = MFU {100 * flops / measured:.1f}% of measured, "
                  f"{100 * flops / a.peak_tflops:.1f}% of nominal", flush=True)
            tok = load_tokenizer(src)
            model = load_model(src, dtype=torch.bfloat16).to("cuda").eval()
            prompts = [tok(f"<s> user {r['input']} </s> <s> assistant", add_special_tokens=False)["input_ids"]
                       for r in records(a.decode_batch * 2, 256, DIMS[name]["vocab_size"])]
            out_stats: dict = {}
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            greedy_decode(model, tok, prompts, max_new_tokens=a.new_tokens, finished=lambda s: False,
                          stop_loops=False, max_rows=a.decode_batch, stats=out_stats)
            torch.cuda.synchronize()
            wall = time.perf_counter() - t0
            print(f"{name}: decode {out_stats['tokens'] / wall:,.0f} new tokens/s ({len(prompts)} prompts, "
                  f"{a.decode_batch} rows at a time, {a.new_tokens} new tokens each, {wall:.1f} s)", flush=True)
            print("RESULT " + json.dumps({"model": name, "sft_tokens_per_s": tps, "mfu_measured": flops / measured,
                                          "decode_tokens_per_s": out_stats["tokens"] / wall}), flush=True)
            del model
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
