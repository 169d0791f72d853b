"""How much of Lucic et al.'s protocol a run of the study does: `full`, `cpu` or `smoke`."""

from __future__ import annotations

import dataclasses

from experiments.lucic_fashion.search import LOSSES


@dataclasses.dataclass(frozen=True)
class Budget:
    name: str
    losses: tuple[str, ...]   # keys of search.LOSSES
    trials: int               # random settings per loss
    seeds: int                # reruns of each loss's best setting
    steps: int                # generator updates per run
    log_every: int            # steps per compiled chunk; divides steps // curve_points
    curve_points: int         # evaluations along each seed rerun (for the FD-vs-step plot)
    eval_samples: int         # generated images per FD ...
    reference_samples: int    # ... against this many test images
    fixed: dict = dataclasses.field(default_factory=dict)  # searched settings held fixed
    overrides: tuple[str, ...] = ()                          # anything else that differs

    def overrides_for(self, rerun: bool) -> list[str]:
        """The settings every run of this budget shares; seed reruns also evaluate on the way.
        The search ranks its trials by FD against training images and only the seed reruns are
        scored against the test images, so no choice is made on test data (Lucic et al. take the
        minimum test FID over trials; we keep their search, not that selection)."""
        point = self.steps // self.curve_points
        eval_every = point if rerun else self.steps
        # Checkpoints at every curve point: a run cut off by a session's end resumes from there.
        return ["experiment=lucic_fashion", f"trainer.steps={self.steps}",
                f"trainer.log_every={self.log_every}", f"trainer.eval_every={eval_every}",
                f"trainer.sample_every={self.steps}", f"trainer.checkpoint_every={point}",
                f"trainer.eval_samples={self.eval_samples}",
                f"eval.reference_samples={self.reference_samples}",
                f"eval.reference_split={'test' if rerun else 'train'}", "trainer.progress=false",
                *self.overrides]


BUDGETS = {
    # The paper's protocol: 100 trials per loss over the whole search space, 15,625 steps, the
    # best setting over 10 seeds, FD on 10k samples vs the 10k test images. Meant for a GPU.
    "full": Budget("full", tuple(LOSSES), trials=100, seeds=10, steps=15625, log_every=625,
                   curve_points=5, eval_samples=10000, reference_samples=10000),
    # Sized by the learning curve of one seed (curve.py, README.md): the narrowed DCGAN's FD
    # stops falling steeply at 4000-4500 steps (NS GAN at Adam 2e-4, beta1 0.5), so 5000 steps.
    # n_critic and D batch norm are fixed so that each loss compiles one program (its 5 trials
    # are one population), the DCGAN is narrowed, and KID (not used here) gets fewer subsets.
    "cpu": Budget("cpu", tuple(LOSSES), trials=5, seeds=3, steps=5000, log_every=625,
                  curve_points=4, eval_samples=2000, reference_samples=2000,
                  fixed={"optim.n_critic": 1, "model.d_batch_norm": False},
                  overrides=("model.width=16", "model.fc_width=256", "eval.kid_subsets=10")),
    # The end-to-end test: two losses, a tiny DCGAN, a few steps, the structure still searched.
    "smoke": Budget("smoke", ("ns", "wgan_gp"), trials=2, seeds=2, steps=20, log_every=10,
                    curve_points=2, eval_samples=200, reference_samples=200,
                    overrides=("model.width=8", "model.fc_width=32", "eval.kid_subsets=2",
                               "eval.kid_subset_size=100")),
}
