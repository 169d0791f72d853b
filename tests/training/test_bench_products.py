"""scripts/bench_products.py times the default DCGAN's own dense-layer products."""

import jax

from gan_jax.training import setup as setup_lib
from scripts import bench_products
from scripts.bench_twin import config


def test_products_are_the_dcgans_dense_layers():
    s = setup_lib.build(config(["trainer.batch_size=4"]))
    state = jax.eval_shape(s.init_state)
    g_kernel = state.g_params["Dense_1"]["kernel"].shape
    d_kernel = state.d_params["trunk"]["Dense_0"]["kernel"].shape
    shapes = bench_products.products(4)
    assert shapes["G Dense_1 forward"][1] == g_kernel == (1024, 6272)
    assert shapes["D Dense_0 forward"][1] == d_kernel == (6272, 1024)
    assert shapes["D Dense_0 forward"][0] == (8, 6272)  # D reads the real and the fake batch


def test_prints_each_product_and_its_rate(capsys):
    assert bench_products.main(["--batches", "2", "--calls", "1", "--rounds", "1"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| G ")
            or line.startswith("| D ")]
    assert len(rows) == 6 and all(float(row.split("|")[-2]) > 0 for row in rows)
