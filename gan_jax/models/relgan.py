"""RelGAN (Nie, Narodytska & Patel, ICLR 2019): a relational-memory generator that writes tokens
through Gumbel-softmax, and a CNN discriminator with many embedded representations.

generator      z [n, 2] -> a PRNG key per sentence -> L steps of (embed the previous token ->
               relational memory (or LSTM) -> logits o_t over the vocabulary -> Gumbel noise g_t)
               training:   softmax(beta (o_t + g_t)) [n, L, V], the relaxed one-hot D reads;
                           the next input is the sampled token argmax(o_t + g_t), as in the
                           authors' code (weilinie/RelGAN, `models/rmc_vanilla.py`)
               inference:  token ids argmax(o_t / T + g_t) [n, L] (int32): exact samples of
                           softmax(o_t / T), T = `sample_temperature`, after the `prompt`'s tokens
               conditional (num_classes > 0): a label embedding joins every step's input
discriminator  one-hot [n, L, V] -> embedding [n, L, R * e] -> R representations, each read by
               convolutions over time (widths 2-5, 300 filters each) with max-pooling, a highway
               layer and a dense layer -> [n, R, 100]; the Critic's linear head gives a logit per
               representation [n, R], and the losses average over all of them as the authors'
               RSGAN loss does.

The inverse temperature beta of the relaxation lives in G's `schedule` collection, so the
adversarial phase sets it from the step (`training.text_phases`) and the state carries it.
G's randomness is its latent: z holds two floats per sentence whose bits are the sentence's key,
so fixed latents give fixed sentences and the step stays a pure function of its key.
The maximum-likelihood objective (`nll`) teacher-forces G on real sentences.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.data.text import EOS

KEY_FLOATS = 2  # z's width: the bits of two float32 make one threefry key


def linear_init(fan_in: int) -> nn.initializers.Initializer:
    """The authors' linear initialiser: truncated normal with std 1/sqrt(fan_in)."""
    return nn.initializers.truncated_normal(fan_in ** -0.5)


def keys_of(z: jax.Array) -> jax.Array:
    """One PRNG key per row of z [n, 2] (its float bits)."""
    bits = jax.lax.bitcast_convert_type(z[:, :KEY_FLOATS].astype(jnp.float32), jnp.uint32)
    return jax.vmap(jax.random.wrap_key_data)(bits)


class RelationalMemory(nn.Module):
    """One step of a relational memory core (Santoro et al. 2018) with unit gates, as RelGAN uses
    it: the input joins the memory slots, multi-head attention and an MLP update them, and LSTM-
    like input and forget gates mix the update into the old memory."""

    mem_slots: int = 1
    head_size: int = 256
    num_heads: int = 2

    @property
    def mem_size(self) -> int:
        return self.head_size * self.num_heads

    def initial(self, n: int) -> jax.Array:
        """The identity per slot, zero-padded to the memory width: [n, slots, mem_size]."""
        eye = jnp.eye(self.mem_slots, self.mem_size)
        return jnp.broadcast_to(eye, (n, self.mem_slots, self.mem_size))

    def attend(self, memory: jax.Array) -> jax.Array:
        n, slots, size = memory.shape
        qkv_size = 3 * self.head_size
        qkv = nn.Dense(qkv_size * self.num_heads, use_bias=False, kernel_init=linear_init(size),
                       name="qkv")(memory)
        qkv = nn.LayerNorm(name="qkv_norm")(qkv).reshape(n, slots, self.num_heads, qkv_size)
        q, k, v = jnp.split(qkv.transpose(0, 2, 1, 3), 3, axis=-1)  # [n, heads, slots, head]
        weights = jax.nn.softmax((q * qkv_size ** -0.5) @ k.transpose(0, 1, 3, 2), axis=-1)
        attended = (weights @ v).transpose(0, 2, 1, 3).reshape(n, slots, size)
        memory = nn.LayerNorm(name="attend_norm")(memory + attended)
        mlp = nn.relu(nn.Dense(size, kernel_init=linear_init(size), name="mlp_0")(memory))
        mlp = nn.Dense(size, kernel_init=linear_init(size), name="mlp_1")(mlp)
        return nn.LayerNorm(name="mlp_norm")(memory + mlp)

    @nn.compact
    def __call__(self, memory: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(memory [n, slots, size], input [n, d]) -> (new memory, output [n, slots * size])."""
        n, size = x.shape[0], self.mem_size
        x = nn.Dense(size, kernel_init=linear_init(x.shape[-1]), name="input")(x)[:, None]
        new = self.attend(jnp.concatenate([memory, x], axis=1))[:, :-1]
        gates = (nn.Dense(2 * size, use_bias=False, kernel_init=linear_init(size), name="gate_in")(x)
                 + nn.Dense(2 * size, use_bias=False, kernel_init=linear_init(size),
                            name="gate_mem")(jnp.tanh(memory)))
        input_gate, forget_gate = jnp.split(gates, 2, axis=-1)
        new = jax.nn.sigmoid(input_gate) * jnp.tanh(new) + jax.nn.sigmoid(forget_gate + 1.0) * memory
        return new, new.reshape(n, -1)


class Generator(nn.Module):
    """G(z, y=None, train) -> relaxed one-hots [n, L, V] (train) or token ids [n, L] (inference)."""

    seq_len: int
    vocab_size: int
    cell: str = "rmc"           # rmc (the paper's) | lstm
    embed_dim: int = 32
    hidden_dim: int = 32        # the LSTM's units (cell=lstm)
    mem_slots: int = 1
    head_size: int = 256
    num_heads: int = 2
    sample_temperature: float = 1.0
    num_classes: int = 0        # > 0: conditioned on a label y (e.g. a review's rating)
    label_dim: int = 16         # the label's embedding, joined to every step's input
    prompt: tuple[int, ...] = ()  # inference: token ids every sentence begins with

    noise_dim = KEY_FLOATS  # `models.build` widens the latent by this

    def setup(self):
        self.embed = nn.Embed(self.vocab_size, self.embed_dim,
                              embedding_init=linear_init(self.vocab_size))
        if self.cell == "rmc":
            self.core = RelationalMemory(self.mem_slots, self.head_size, self.num_heads)
            out_dim = self.mem_slots * self.head_size * self.num_heads
        else:
            self.core = nn.OptimizedLSTMCell(self.hidden_dim)
            out_dim = self.hidden_dim
        self.out = nn.Dense(self.vocab_size, kernel_init=linear_init(out_dim))
        self.beta = self.variable("schedule", "inverse_temperature", lambda: jnp.ones((), jnp.float32))
        if self.num_classes:
            self.label = nn.Embed(self.num_classes, self.label_dim)

    def label_inputs(self, y: jax.Array | None) -> jax.Array | None:
        """The label embedding [n, label_dim] every step reads, or None (unconditional)."""
        return self.label(y) if self.num_classes else None

    def initial_carry(self, n: int):
        if self.cell == "rmc":
            return self.core.initial(n)
        return self.core.initialize_carry(jax.random.PRNGKey(0), (n, self.embed_dim))

    def logits(self, carry, token: jax.Array, label: jax.Array | None = None):
        """One step: (carry, previous token [n], label embedding or None) -> (carry, logits [n, V])."""
        x = self.embed(token)
        carry, h = self.core(carry, x if label is None else jnp.concatenate([x, label], axis=-1))
        return carry, self.out(h)

    def nll(self, tokens: jax.Array, y: jax.Array | None = None) -> jax.Array:
        """Teacher-forced negative log-likelihood per token [n, L] (nats) of real sentences, the
        end-of-sentence padding included as in the authors' pretraining loss; under the model
        sampled at `sample_temperature` (1 while training)."""
        n = tokens.shape[0]
        previous = jnp.concatenate([jnp.full((n, 1), EOS, tokens.dtype), tokens[:, :-1]], axis=1)
        label = self.label_inputs(y)
        scan = nn.scan(lambda mdl, c, tok: mdl.logits(c, tok, label),
                       variable_broadcast=["params", "schedule"], split_rngs={"params": False},
                       in_axes=1, out_axes=1)
        _, logits = scan(self, self.initial_carry(n), previous)
        log_p = jax.nn.log_softmax(logits / self.sample_temperature)  # the distribution sampled at T
        return -jnp.take_along_axis(log_p, tokens[..., None], axis=-1)[..., 0]

    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        """y: labels [n] of a conditional G (num_classes > 0), else unused."""
        n = z.shape[0]
        beta, keys, label = self.beta.value, keys_of(z), self.label_inputs(y)
        prompt = jnp.full((self.seq_len,), -1, jnp.int32)
        if self.prompt and not train:
            prompt = prompt.at[:len(self.prompt)].set(jnp.asarray(self.prompt, jnp.int32))

        def write(mdl, carry, t, forced):
            state, token = carry
            state, o = mdl.logits(state, token, label)
            g = jax.vmap(lambda k: jax.random.gumbel(jax.random.fold_in(k, t), o.shape[1:]))(keys)
            if train:
                token = jnp.argmax(o + g, axis=-1)
                out = jax.nn.softmax(beta * (o + g), axis=-1)
            else:
                token = jnp.argmax(o / self.sample_temperature + g, axis=-1).astype(jnp.int32)
                token = out = jnp.where(forced >= 0, forced, token)
            return (state, jax.lax.stop_gradient(token)), out

        scan = nn.scan(write, variable_broadcast=["params", "schedule"],
                       split_rngs={"params": False}, out_axes=1)
        start = jnp.full((n,), EOS, jnp.int32)
        _, out = scan(self, (self.initial_carry(n), start), jnp.arange(self.seq_len), prompt)
        return out


class Highway(nn.Module):
    """One highway layer without biases (the authors' `highway(..., bias=0)`)."""

    @nn.compact
    def __call__(self, h: jax.Array) -> jax.Array:
        size = h.shape[-1]
        g = nn.relu(nn.Dense(size, use_bias=False, kernel_init=linear_init(size), name="transform")(h))
        t = jax.nn.sigmoid(nn.Dense(size, use_bias=False, kernel_init=linear_init(size), name="gate")(h))
        return t * g + (1 - t) * h


class TimeConv(nn.Module):
    """A 'VALID' convolution over time, [n, L, c] -> [n, L - k + 1, features], written as one
    matmul of the k stacked shifts (the parameters of `nn.Conv(features, (k,))`, the same sums).
    XLA:CPU runs a convolution with RelGAN's one input channel per representation far below its
    matmul speed; this form is exact and faster (scripts/bench_text.py)."""

    features: int
    k: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        n, length, c = x.shape
        fan_in = self.k * c  # the authors' conv initialiser: N(0, 2 / fan_in)
        kernel = self.param("kernel", nn.initializers.normal((2.0 / fan_in) ** 0.5),
                            (self.k, c, self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        out = length - self.k + 1
        shifts = jnp.concatenate([x[:, i:i + out] for i in range(self.k)], axis=-1)  # [n, out, k c]
        return shifts @ kernel.reshape(self.k * c, self.features) + bias


class Discriminator(nn.Module):
    """D's trunk: one-hot [n, L, V] -> [n, representations, 100] (see the module docstring)."""

    embed_dim: int = 64
    representations: int = 64
    filter_sizes: tuple[int, ...] = (2, 3, 4, 5)
    num_filters: int = 300
    fc_dim: int = 100

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        n, length, vocab = x.shape
        r = self.representations
        width = self.embed_dim // r
        emb = x @ self.param("embed", linear_init(vocab), (vocab, self.embed_dim))
        # each representation is `width` embedding columns, read by its own pass of the convolutions
        emb = emb.reshape(n, length, r, width).transpose(0, 2, 1, 3).reshape(n * r, length, width)
        pooled = []
        for k in self.filter_sizes:
            if k > length:
                raise ValueError(f"sentences of {length} tokens are shorter than D's filter width "
                                 f"{k}; raise data.max_length")
            h = TimeConv(self.num_filters, k, name=f"conv_{k}")(emb)
            pooled.append(jnp.max(nn.relu(h), axis=1))
        h = Highway()(jnp.concatenate(pooled, axis=-1))
        h = nn.Dense(self.fc_dim, kernel_init=linear_init(h.shape[-1]), name="fc")(h)
        return h.reshape(n, r, self.fc_dim)
