"""A byte-level BPE tokenizer trained locally (no hub) on code of every target language, with the Qwen-VL
special tokens and chat template, so a tiny model speaks the same protocol as the real ones.

`split_values=True` pre-splits text at quoted attribute values and newlines instead of at words, so that
with a small vocabulary `<rect x=`, `"3"` and `"#d62728"` each become one token: one decision per token,
which is what lets a tiny model learn an image -> SVG task in minutes."""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

# Qwen-VL chat format: content is a string or a list of {"type": "image" | "video" | "text"} parts.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or 'image' in part or 'image_url' in part %}"
    "{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{% elif part['type'] == 'video' or 'video' in part %}"
    "{{ '<|vision_start|><|video_pad|><|vision_end|>' }}"
    "{% elif 'text' in part %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect x="10" y="10" width="80" height="80" '
    'fill="#d62728"/><circle cx="50" cy="50" r="20" fill="blue"/></svg>',
    '<html><body style="margin:0;background:#fff"><div style="width:120px;height:60px;background:#1f77b4">'
    "Hello</div><p>text</p></body></html>",
    "\\begin{tikzpicture}\\draw[thick,red] (0,0) rectangle (2,1);\\node at (1,0.5) {A};\\end{tikzpicture}",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.bar(['a', 'b'], [3, 5], color='tab:green')\n"
    "ax.set_title('Sales')\nplt.show()",
    "CC(=O)Oc1ccccc1C(=O)O",
    "c1ccccc1O",
    "```svg\n",
    "```html\n",
    "```latex\n",
    "```python\n",
    "```smiles\n",
    "```\n",
    "Write the code that renders this image.",
    "You are a helpful assistant.",
]


def _pre_tokenizer(split_values: bool):
    if not split_values:
        return pre_tokenizers.ByteLevel(add_prefix_space=False)
    values = pre_tokenizers.Split(Regex('"[^"\\n]*"|\\n'), "isolated")
    return pre_tokenizers.Sequence([values, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])


def train_tokenizer(
    extra_corpus: list[str] | None = None, vocab_size: int = 1024, split_values: bool = False
) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = _pre_tokenizer(split_values)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator((_CORPUS + list(extra_corpus or [])) * 20, trainer=trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=SPECIAL_TOKENS[1:],
        model_max_length=8192,
    )
    hf.chat_template = CHAT_TEMPLATE
    hf.padding_side = "left"
    return hf
