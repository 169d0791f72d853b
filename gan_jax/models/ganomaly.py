"""GANomaly (Akcay et al., ACCV 2018): an encoder-decoder-encoder generator for anomaly scores.

G answers each real image x (a `Pairing`): z = E1(x), x_hat = Dec(z); a second encoder maps the
reconstruction back, z_hat = E2(x_hat). G's objective adds to the adversarial loss (any loss of
the switchboard; the paper matches D's features) the contextual loss w_con * |x - x_hat|_1 and
the encoder loss w_enc * |z - z_hat|^2 (`objective_terms`). The anomaly score is
|z - z_hat|^2: a normal image's code survives the round trip, an anomalous one's does not.
D is the usual DCGAN critic of x against x_hat. E1 and E2 are DCGAN discriminator trunks with a
linear map onto the code; Dec is the DCGAN generator.
"""

from __future__ import annotations

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import dcgan


class Encoder(nn.Module):
    latent_dim: int
    width: int
    fc_width: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return nn.Dense(self.latent_dim)(dcgan.Discriminator(self.width, self.fc_width)(x, train=False))


class Generator(nn.Module):
    out_shape: tuple[int, int, int]
    out_act: Callable[[jax.Array], jax.Array]
    latent_dim: int
    width: int
    fc_width: int
    batch_stats_axis: str | None = None

    def setup(self):
        self.encoder1 = Encoder(self.latent_dim, self.width, self.fc_width)
        self.decoder = dcgan.Generator(self.out_shape, self.out_act, self.width, self.fc_width,
                                       batch_stats_axis=self.batch_stats_axis)
        self.encoder2 = Encoder(self.latent_dim, self.width, self.fc_width)

    def __call__(self, z: jax.Array, y: jax.Array, train: bool = True) -> jax.Array:
        del z  # G reads the image it answers, not noise
        x_hat = self.decoder(self.encoder1(y), None, train)
        if self.is_initializing():  # E2's parameters (used by the objective and the score)
            self.encoder2(x_hat)
        return x_hat

    def codes(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(z, z_hat) of images x, in inference mode (the anomaly score's inputs)."""
        x_hat = self.decoder(self.encoder1(x), None, False)
        return self.encoder1(x), self.encoder2(x_hat)


def anomaly_score(generator: Generator, variables: Any, x: jax.Array) -> jax.Array:
    """|z - z_hat|^2 averaged over the code [n] (higher = more anomalous)."""
    z, z_hat = generator.apply(variables, x, method=Generator.codes)
    return jnp.mean(jnp.square(z - z_hat), axis=-1)


def objective_terms(generator: Generator, g_params: Any, real: jax.Array, fake: jax.Array
                    ) -> dict[str, jax.Array]:
    """GANomaly's reconstruction losses of one batch, G's answers `fake` to the images `real`:
    contextual |x - x_hat|_1 and encoder |E1(x) - E2(x_hat)|^2, each averaged per element."""
    encoder = Encoder(generator.latent_dim, generator.width, generator.fc_width)
    e1 = encoder.apply({"params": g_params["encoder1"]}, real)
    e2 = encoder.apply({"params": g_params["encoder2"]}, fake)
    return {"contextual": jnp.mean(jnp.abs(real - fake)), "encoder": jnp.mean(jnp.square(e1 - e2))}
