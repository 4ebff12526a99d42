#!/usr/bin/env python3
"""Writes a tiny Llama-shaped model directory (config + tokenizer, no weights).

Served with `vllm --load-format dummy` (random weights), so nothing is downloaded. Standard
library only. Usage: make_model.py OUT_DIR
"""
import json
import os
import string
import sys
import tempfile

VOCAB_SIZE = 1000
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]
WORDS = """
the of and to a in is it you that he was for on are with as i his they be at one have this
from or had by hot word but what some we can out other were all there when up use your how
said an each she which do their time if will way about many then them write would like so
these her long make thing see him two has look more day could go come did number sound no
most people my over know water than call first who may down side been now find any new work
part take get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help low line
differ turn cause much mean before move right boy old too same tell does set three want air
well also play small end put home read hand port large spell add even land here must big
high such follow act why ask men change went light kind off need house picture try us again
animal point mother world near build self earth father head stand own page should country
found answer school grow study still learn plant cover food sun four between state keep eye
never last let thought city tree cross farm hard start might story saw far sea draw left
late run while press close night real life few north hello model cluster ray gpu node test
""".split()


def vocab():
    tokens = list(SPECIALS)
    seen = set(tokens)

    def add(tok):
        if tok not in seen and len(tokens) < VOCAB_SIZE:
            seen.add(tok)
            tokens.append(tok)

    for tok in list(string.punctuation) + list(string.digits) + list(string.ascii_lowercase):
        add(tok)
    for tok in WORDS:
        add(tok)
    for a in string.ascii_lowercase:
        for b in string.ascii_lowercase:
            add(a + b)
    for a in string.ascii_lowercase:
        for b in string.ascii_lowercase:
            add(a + b + "e")
    return {tok: i for i, tok in enumerate(tokens)}


def added_token(i, tok):
    return {"id": i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def files():
    v = vocab()
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added_token(i, t) for i, t in enumerate(SPECIALS)],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": v, "unk_token": "<unk>"},
    }
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "head_dim": 16,
        "hidden_act": "silu",
        "max_position_embeddings": 512,
        "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "initializer_range": 0.02,
        "use_cache": True,
        "vocab_size": len(v),
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 3,
        "torch_dtype": "float16",
        "transformers_version": "4.53.0",
    }
    chat_template = (
        "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n"
        "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"
    )
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "model_max_length": 512,
        "clean_up_tokenization_spaces": False,
        "added_tokens_decoder": {str(i): added_token(i, t) for i, t in enumerate(SPECIALS)},
        "chat_template": chat_template,
    }
    for entry in tokenizer_config["added_tokens_decoder"].values():
        del entry["id"]
    special_tokens_map = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                          "pad_token": "<pad>"}
    generation_config = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 3,
                         "max_new_tokens": 32, "transformers_version": "4.53.0"}
    return {
        "config.json": config,
        "tokenizer.json": tokenizer,
        "tokenizer_config.json": tokenizer_config,
        "special_tokens_map.json": special_tokens_map,
        "generation_config.json": generation_config,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_model.py OUT_DIR")
    out = os.path.abspath(sys.argv[1])
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tiny-llama.", dir=parent)
    for name, content in files().items():
        with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")
    os.chmod(tmp, 0o755)
    os.rename(tmp, out)


if __name__ == "__main__":
    main()
