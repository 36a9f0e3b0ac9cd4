# ruff: noqa
# Copied from i01: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def activation_stats(init, depth, width, activation, rng, batch_size=256):
    # look the sampler up by name if needed
    if isinstance(init, str):
        init = globals()[init]
    acts = rng.standard_normal((batch_size, width))
    mean_list = []
    std_list = []
    verbose = False
    for l in range(depth):
        kernel = init((width, width), rng)
        acts = apply_activation(activation, acts @ kernel)
        mean_list.append(acts.mean())
        std_list.append(acts.std())
    return np.array(mean_list), np.array(std_list)


def he_normal(shape, rng):
    """He initialisation (truncated)."""
    n_in, n_out = compute_fans(shape)
    sigma = np.sqrt(2.0 / n_in) / 0.87962566103423978
    return truncated_normal(shape, rng, 0.0, sigma)


def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    rf = 1
    for dim in shape[:-2]:
        rf = rf * dim
    return shape[-2] * rf, shape[-1] * rf


def truncated_normal(shape, rng, mean=0.0, stddev=0.05):
    z = rng.standard_normal(size=shape)
    out_of_range = np.abs(z) > 2
    while np.any(out_of_range):
        z[out_of_range] = rng.standard_normal(size=out_of_range.sum())
        out_of_range = np.abs(z) > 2
    return mean + stddev * z


def gaussian_init(shape, rng, mean=0.0, stddev=0.05):
    return rng.normal(mean,
                      stddev,
                      size=shape)


def xavier_uniform(shape, rng):
    n_in, n_out = compute_fans(shape)
    bound = np.sqrt(6.0 / (n_in + n_out))
    if False:
        print(bound)
    return rng.uniform(-bound, bound, size=shape)
