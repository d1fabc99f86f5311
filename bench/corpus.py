"""Vocabulary for generated posts: Chinese ML sentences, English terms, formulas, code, tags.

Everything here is fixed text; bench.generate picks from it with a seeded random generator, so the
same seed always gives the same posts. The sentences are written to read like interview notes.
"""

import random

# English terms as they appear inside Chinese technical writing.
TERMS = [
    "Transformer", "self-attention", "cross-attention", "MHA", "MQA", "GQA", "MLA",
    "FlashAttention", "PagedAttention", "KV cache", "RoPE", "ALiBi", "YaRN", "NTK-aware scaling",
    "LayerNorm", "RMSNorm", "Pre-Norm", "Post-Norm", "DeepNorm", "SwiGLU", "GeLU", "FFN", "MoE",
    "top-k routing", "load balancing loss", "BPE", "SentencePiece", "tokenizer", "embedding",
    "LoRA", "QLoRA", "adapter", "prefix tuning", "P-Tuning v2", "SFT", "RLHF", "PPO", "DPO",
    "GRPO", "reward model", "KL penalty", "AdamW", "warmup", "cosine decay", "weight decay",
    "gradient clipping", "bf16", "fp16", "FP8", "ZeRO-3", "FSDP", "tensor parallelism",
    "pipeline parallelism", "sequence parallelism", "activation checkpointing", "vLLM",
    "continuous batching", "speculative decoding", "GPTQ", "AWQ", "INT4", "prefill", "decode",
    "top-p sampling", "temperature", "beam search", "RAG", "reranker", "BM25", "HNSW",
    "chunking", "function calling", "ReAct", "chain-of-thought", "in-context learning", "ViT",
    "CLIP", "SigLIP", "Q-Former", "BLIP-2", "LLaVA", "Qwen-VL", "InternVL", "projector",
    "patch embedding", "InfoNCE", "contrastive loss", "DiT", "flow matching", "VQ-VAE",
    "perplexity", "MMLU", "hallucination", "scaling law", "Chinchilla", "data mixture",
    "deduplication", "knowledge distillation", "Mamba", "state space model",
]  # fmt: skip

# 200 tag slugs (lower-case, as the tag service normalises them).
TAG_NAMES = [
    # architecture
    "transformer", "attention", "self-attention", "cross-attention", "multi-head-attention",
    "mqa", "gqa", "mla", "flash-attention", "sparse-attention", "linear-attention",
    "sliding-window-attention", "rope", "alibi", "positional-encoding", "layernorm", "rmsnorm",
    "batchnorm", "pre-norm", "post-norm", "swiglu", "gelu", "ffn", "moe", "router",
    "expert-parallelism", "residual-connection", "embedding", "tokenizer", "bpe", "sentencepiece",
    "wordpiece", "vocabulary", "kv-cache", "paged-attention", "decoder-only", "encoder-decoder",
    "bert", "gpt", "t5", "llama", "qwen", "deepseek", "mistral", "mixtral", "chatglm",
    "baichuan", "gemma", "phi", "mamba", "ssm", "rwkv",
    # training
    "pretraining", "sft", "instruction-tuning", "rlhf", "ppo", "dpo", "grpo", "kto", "orpo",
    "reward-model", "preference-data", "lora", "qlora", "adapter", "prefix-tuning", "p-tuning",
    "peft", "full-finetuning", "mixed-precision", "bf16", "fp8", "gradient-checkpointing", "zero",
    "fsdp", "deepspeed", "megatron", "tensor-parallelism", "pipeline-parallelism",
    "data-parallelism", "sequence-parallelism", "adamw", "learning-rate-schedule", "warmup",
    "weight-decay", "gradient-clipping", "loss-spike", "scaling-laws", "data-mixture",
    "deduplication", "curriculum-learning", "distillation", "contrastive-learning", "infonce",
    "cross-entropy", "label-smoothing",
    # inference
    "inference", "vllm", "tensorrt-llm", "sglang", "continuous-batching", "speculative-decoding",
    "quantization", "gptq", "awq", "int8", "int4", "kv-cache-compression", "prefill", "decode",
    "beam-search", "sampling", "top-p", "temperature", "repetition-penalty", "long-context",
    "context-extension", "yarn", "ntk-scaling", "latency", "throughput",
    # applications
    "rag", "retrieval", "embedding-model", "reranker", "vector-database", "chunking", "agent",
    "function-calling", "tool-use", "react", "chain-of-thought", "reasoning", "self-consistency",
    "prompt-engineering", "in-context-learning", "hallucination", "evaluation", "benchmark",
    "mmlu", "perplexity", "alignment", "safety", "jailbreak", "red-teaming",
    # vision and multimodal
    "vlm", "multimodal", "clip", "siglip", "vit", "q-former", "blip-2", "llava", "qwen-vl",
    "internvl", "visual-instruction-tuning", "image-tokenizer", "vq-vae", "diffusion",
    "stable-diffusion", "dit", "flow-matching", "ocr", "video-understanding", "grounding",
    "dynamic-resolution", "patch-embedding", "projector",
    # foundations and tools
    "llm", "softmax", "dropout", "overfitting", "optimizer", "loss-function", "backpropagation",
    "initialization", "activation-function", "probability", "linear-algebra", "information-theory",
    "kl-divergence", "entropy", "gradient-descent", "reinforcement-learning", "policy-gradient",
    "cuda", "triton", "pytorch", "numpy", "python", "cpp", "gpu-memory", "profiling",
    "coding-interview", "system-design", "paper-reading", "project-experience", "data-engineering",
    "attention-sink",
]  # fmt: skip

# Sentences: {t} and {u} are English terms, {f} an inline formula.
SENTENCES = [
    "{t} 的核心思想是在不明显增加计算量的前提下提升模型的表达能力。",
    "面试官通常会追问 {t} 和 {u} 的区别，以及各自适用的场景。",
    "从实现上看，{t} 只需要改动几行代码，但对训练稳定性的影响很大。",
    "很多同学只记住了结论，却说不清 {t} 为什么有效，这是面试里最容易丢分的地方。",
    "在长上下文场景下，{t} 的显存占用随序列长度线性增长，需要配合 {u} 一起使用。",
    "如果把 {t} 换成 {u}，吞吐量会提升，但首 token 延迟可能变差。",
    "论文里的消融实验表明，去掉 {t} 以后 loss 收敛明显变慢。",
    "可以把 {t} 理解为一种归纳偏置，它限制了模型的搜索空间。",
    "公式上可以写成 {f}，其中各个符号的含义需要在回答时讲清楚。",
    "注意 {f} 这一项，它决定了梯度在反向传播时的尺度。",
    "工程上最常见的坑是 {t} 和混合精度一起用时出现数值溢出。",
    "实际部署时，我们用 {t} 把单卡吞吐提高了大约一倍。",
    "{t} 并不是银弹：数据质量不好时，它带来的收益会被噪声淹没。",
    "回答这类问题时，先给出定义，再讲动机，最后补充复杂度和实践经验。",
    "复杂度方面，朴素实现是 {f}，优化后可以降到线性。",
    "{t} 在 LLaMA 系列里被广泛采用，Qwen 和 DeepSeek 也沿用了类似设计。",
    "和 {u} 相比，{t} 对超参数没那么敏感，调参成本更低。",
    "训练初期 loss 出现尖峰时，可以先检查学习率 warmup 和 {t} 的配置。",
    "如果面试官问到 {t} 的局限性，可以从显存、通信和数值稳定性三个角度回答。",
    "多模态模型里，视觉特征经过 {t} 之后才与文本 token 拼接送入语言模型。",
    "Q-Former 用一组可学习的 query 从图像特征中抽取信息，和 {t} 的思路有相通之处。",
    "这个问题本质上是在考察对 {t} 的理解深度，而不是背公式。",
    "我在项目里对比过 {t} 和 {u}，在中文数据上前者的效果稍好一些。",
    "需要强调的是，{t} 改变的是优化过程，而不是模型的表达能力上限。",
    "推理阶段可以缓存中间结果，这正是 KV cache 能够加速 decode 的原因。",
    "对于 7B 规模的模型，{t} 通常能节省约三分之一的显存。",
    "把 {f} 代入上式化简，就能得到面试中常考的那个结论。",
    "很多开源实现里 {t} 的默认参数并不是最优的，需要结合数据重新调整。",
    "从信息论的角度看，{t} 相当于在最大化互信息的一个下界。",
    "评估时不要只看 perplexity，还要结合下游任务和人工评测。",
    "{t} 的另一个好处是便于和 {u} 组合，几乎不需要修改训练框架。",
    "如果数据分布发生偏移，{t} 学到的捷径特征就会失效。",
    "大规模训练中，通信开销往往比计算开销更早成为瓶颈。",
    "RMSNorm 去掉了均值中心化，只保留缩放，因此计算更省。",
    "在 RLHF 中，KL 惩罚项用来防止策略偏离参考模型太远。",
    "DPO 直接用偏好数据优化策略，省去了单独训练 reward model 的步骤。",
    "GQA 是 MHA 和 MQA 的折中：多个 query 头共享一组 key 和 value。",
    "FlashAttention 通过分块计算和重计算，避免把完整的注意力矩阵写回显存。",
    "LoRA 冻结原始权重，只训练低秩增量矩阵，合并后推理没有额外开销。",
    "RoPE 把位置信息编码成旋转角度，使注意力分数只依赖相对位置。",
    "MoE 在保持激活参数量不变的情况下扩大总参数量，但路由不均衡会拖慢训练。",
    "投机解码用小模型先猜若干 token，再由大模型一次性并行验证。",
]  # fmt: skip

OPENINGS = [
    "先说结论：",
    "我从原理、实现和工程实践三个方面回答。",
    "这个问题在字节和阿里的面试里都被问到过。",
    "补充一点楼上没提到的内容。",
    "简单总结一下我的理解：",
    "Short answer: it depends on the sequence length and the hardware.",
    "下面按面试时的回答顺序整理。",
]

LIST_ITEMS = [
    "计算复杂度随序列长度的变化",
    "显存占用：参数、梯度、优化器状态和激活值",
    "训练稳定性，尤其是混合精度下的数值范围",
    "实现难度和对现有框架的侵入程度",
    "推理时延：prefill 和 decode 两个阶段分别分析",
    "和 {t} 的兼容性",
    "是否需要重新预训练，还是可以在 SFT 阶段引入",
    "对长文本外推能力的影响",
    "{t} 的超参数如何选择",
    "数据质量与数据配比",
    "评测指标：准确率、困惑度和人工偏好",
    "通信量与并行策略的选择",
    "Use {t} when memory bandwidth is the bottleneck",
    "Check the gradient norm before blaming {t}",
]

INLINE_FORMULAS = [
    r"O(n^2 d)",
    r"\mathrm{softmax}(QK^T / \sqrt{d_k})V",
    r"y = \frac{x}{\sqrt{\frac{1}{d}\sum_i x_i^2 + \epsilon}} \cdot g",
    r"W = W_0 + BA",
    r"r \ll d",
    r"\theta_i = 10000^{-2i/d}",
    r"p(x_t \mid x_{<t})",
    r"\mathcal{L} = -\sum_t \log p(x_t \mid x_{<t})",
    r"\beta \, \mathrm{KL}(\pi_\theta \| \pi_{\mathrm{ref}})",
    r"\sigma(x) = \frac{1}{1 + e^{-x}}",
    r"\mathrm{SwiGLU}(x) = (xW_1 \odot \mathrm{Swish}(xW_2))W_3",
    r"\hat{m}_t = m_t / (1 - \beta_1^t)",
    r"\|g\|_2 \le c",
    r"2 \times L \times n_{kv} \times d_{head}",
    r"e^{i m \theta}",
    r"\gamma \in \mathbb{R}^d",
    r"\log \frac{\pi_\theta(y_w \mid x)}{\pi_{\mathrm{ref}}(y_w \mid x)}",
    r"N \approx 20 D",
    r"\sum_{i=1}^{k} g_i(x) E_i(x)",
    r"\mathrm{PPL} = \exp(\mathcal{L})",
]

DISPLAY_FORMULAS = [
    r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V",
    r"\mathrm{RMSNorm}(x) = \frac{x}{\sqrt{\frac{1}{d}\sum_{i=1}^{d} x_i^2 + \epsilon}} \odot g",
    r"\mathcal{L}_{\mathrm{DPO}} = -\log \sigma\left(\beta \log \frac{\pi_\theta(y_w|x)}"
    r"{\pi_{\mathrm{ref}}(y_w|x)} - \beta \log \frac{\pi_\theta(y_l|x)}{\pi_{\mathrm{ref}}(y_l|x)}"
    r"\right)",
    r"\mathcal{L}_{\mathrm{InfoNCE}} = -\log \frac{\exp(s(x, y^+)/\tau)}"
    r"{\sum_{j} \exp(s(x, y_j)/\tau)}",
    r"h = W_0 x + \frac{\alpha}{r} B A x",
    r"f(x, m) = \begin{pmatrix} \cos m\theta & -\sin m\theta \\ \sin m\theta & \cos m\theta"
    r"\end{pmatrix} x",
    r"\mathrm{KV} = 2 \times b \times s \times L \times n_{kv} \times d_{head}"
    r" \times 2\ \mathrm{bytes}",
    r"r_t(\theta) = \frac{\pi_\theta(a_t|s_t)}{\pi_{\theta_{old}}(a_t|s_t)}",
]

CODE_SNIPPETS = [
    (
        "python",
        """class RMSNorm(torch.nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(dim))

    def forward(self, x):
        rms = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return x * rms * self.weight""",
    ),
    (
        "python",
        """def attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v""",
    ),
    (
        "python",
        """class LoRALinear(torch.nn.Module):
    def __init__(self, base: torch.nn.Linear, r: int = 8, alpha: int = 16):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.A = torch.nn.Parameter(torch.randn(r, base.in_features) * 0.01)
        self.B = torch.nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale""",
    ),
    (
        "python",
        """def top_p_sample(logits, p=0.9, temperature=1.0):
    probs = torch.softmax(logits / temperature, dim=-1)
    sorted_probs, idx = probs.sort(descending=True)
    keep = sorted_probs.cumsum(-1) - sorted_probs < p
    sorted_probs = sorted_probs * keep
    choice = torch.multinomial(sorted_probs / sorted_probs.sum(), 1)
    return idx.gather(-1, choice)""",
    ),
    (
        "python",
        """# decode step with a KV cache
k_cache = torch.cat([k_cache, k_new], dim=2)
v_cache = torch.cat([v_cache, v_new], dim=2)
out = attention(q_new, k_cache, v_cache)""",
    ),
    (
        "python",
        """def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)

def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin""",
    ),
    (
        "bash",
        """torchrun --nproc_per_node 8 train.py \\
    --model llama-7b --lora-r 16 --bf16 \\
    --gradient-checkpointing --zero-stage 3""",
    ),
    (
        "python",
        """def dpo_loss(pi_w, pi_l, ref_w, ref_l, beta=0.1):
    logits = beta * ((pi_w - ref_w) - (pi_l - ref_l))
    return -torch.nn.functional.logsigmoid(logits).mean()""",
    ),
    (
        "cpp",
        """__global__ void softmax_kernel(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = expf(x[i]);
}""",
    ),
    (
        "",
        """Input -> ViT -> Q-Former (32 queries) -> Linear projector -> LLM
                                                      ^
                                            text tokens""",
    ),
]

HEADINGS = ["原理", "实现要点", "常见追问", "工程经验", "复杂度分析", "对比", "小结", "参考"]

TITLE_TEMPLATES = [
    "{t} 和 {u} 有什么区别？",
    "为什么大模型普遍使用 {t}？",
    "请解释 {t} 的原理，并说明它解决了什么问题",
    "手写 {t}：面试时需要注意哪些细节？",
    "{t} 在训练时为什么会出现数值不稳定？",
    "如何用 {t} 降低推理显存占用？",
    "{t} 的计算复杂度是多少？能否进一步优化？",
    "多模态模型中 {t} 起什么作用？",
    "{t} 相比 {u} 的优缺点分别是什么？",
    "面试题：如果让你从零实现 {t}，你会怎么设计？",
    "How does {t} work, and when would you use {u} instead?",
    "What is the memory cost of {t} during inference?",
    "{t} 训练中 loss 突然变成 NaN，应该怎么排查？",
    "为什么 {t} 能提升长文本效果？和 {u} 能否一起用？",
]


def fill(template: str, rng: random.Random) -> str:
    first, second = rng.sample(TERMS, 2)
    return template.format(t=first, u=second, f=f"${rng.choice(INLINE_FORMULAS)}$")


def title(rng: random.Random) -> str:
    return fill(rng.choice(TITLE_TEMPLATES), rng)


def _paragraph(rng: random.Random) -> str:
    return "".join(fill(rng.choice(SENTENCES), rng) for _ in range(rng.randint(2, 4)))


def _bullets(rng: random.Random, *, ordered: bool) -> str:
    items = [fill(item, rng) for item in rng.sample(LIST_ITEMS, rng.randint(3, 5))]
    marks = [f"{n}." for n in range(1, len(items) + 1)] if ordered else ["-"] * len(items)
    return "\n".join(f"{mark} {item}" for mark, item in zip(marks, items, strict=True))


def _code(rng: random.Random) -> str:
    language, code = rng.choice(CODE_SNIPPETS)
    # No blank lines inside a block: edited_body splits a body into blocks at blank lines.
    return f"```{language}\n{code.replace(chr(10) * 2, chr(10))}\n```"


def _display_math(rng: random.Random) -> str:
    return f"$$\n{rng.choice(DISPLAY_FORMULAS)}\n$$"


def _table(rng: random.Random) -> str:
    first, second = rng.sample(TERMS, 2)
    return (
        f"| 维度 | {first} | {second} |\n|---|---|---|\n"
        f"| 显存 | {rng.choice(['较低', '中等', '较高'])} | {rng.choice(['较低', '较高'])} |\n"
        f"| 速度 | {rng.choice(['快', '一般'])} | {rng.choice(['快', '慢'])} |\n"
        f"| 实现难度 | {rng.choice(['简单', '中等', '复杂'])} | {rng.choice(['简单', '复杂'])} |"
    )


def _heading(rng: random.Random) -> str:
    return f"### {rng.choice(HEADINGS)}\n\n{_paragraph(rng)}"


def _quote(rng: random.Random) -> str:
    return "> " + fill(rng.choice(SENTENCES), rng)


# Block kinds with their weights; paragraphs dominate, as in real notes.
_BLOCKS = [
    (_paragraph, 10),
    (lambda rng: _bullets(rng, ordered=False), 3),
    (lambda rng: _bullets(rng, ordered=True), 2),
    (_code, 2),
    (_display_math, 2),
    (_heading, 2),
    (_table, 1),
    (_quote, 1),
]
_BLOCK_MAKERS = [maker for maker, _weight in _BLOCKS]
_BLOCK_WEIGHTS = [weight for _maker, weight in _BLOCKS]

BODY_MIN_LENGTH = 500
BODY_MAX_LENGTH = 2000


def body(rng: random.Random, *, opening: bool = False) -> str:
    """Markdown of BODY_MIN_LENGTH to BODY_MAX_LENGTH characters, blocks separated by blank lines.

    Two lists never follow each other directly (CommonMark would merge them into one)."""
    goal = rng.randint(BODY_MIN_LENGTH, BODY_MAX_LENGTH)
    blocks = [rng.choice(OPENINGS) + _paragraph(rng)] if opening else [_paragraph(rng)]
    length = len(blocks[0])
    while length < goal:
        block = rng.choices(_BLOCK_MAKERS, weights=_BLOCK_WEIGHTS)[0](rng)
        if block[0] in "-1" and blocks[-1][0] in "-1":
            block = _paragraph(rng)
        if length + 2 + len(block) > BODY_MAX_LENGTH:
            block = fill(rng.choice(SENTENCES), rng)  # one sentence to top it up
            if length + 2 + len(block) > BODY_MAX_LENGTH:
                break
        blocks.append(block)
        length += 2 + len(block)
    return "\n\n".join(blocks)


def edited_body(previous: str, rng: random.Random) -> str:
    """A later revision: one block rewritten or one added, as real edits do."""
    blocks = previous.split("\n\n")
    index = rng.randrange(len(blocks))
    if blocks[index][0] not in "-1#`$|>" and rng.random() < 0.6:
        blocks[index] = _paragraph(rng)
    else:
        blocks.append("补充：" + _paragraph(rng))
    text = "\n\n".join(blocks)
    while len(text) > BODY_MAX_LENGTH and len(blocks) > 1:
        blocks.pop(0 if index != 0 else 1)
        text = "\n\n".join(blocks)
    return text
