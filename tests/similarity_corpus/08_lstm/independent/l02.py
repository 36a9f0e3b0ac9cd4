# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np


def split_gates(z):
    """The four gate blocks of z (N, 4H), in Keras's order i, f, c, o."""
    return np.split(z, 4, axis=1)


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    zi, zf, zc, zo = split_gates(np.dot(x, wx) + np.dot(h_prev, wh) + b)
    gates = {"i": sigmoid(zi), "f": sigmoid(zf), "c": np.tanh(zc), "o": sigmoid(zo)}
    c_next = gates["f"] * c_prev + gates["i"] * gates["c"]
    h_next = gates["o"] * np.tanh(c_next)
    return (h_next, c_next), {"x": x, "h": h_prev, "c": c_prev, "wx": wx, "wh": wh, "gates": gates, "c_next": c_next}


def lstm_step_backward(dout, cache):
    dh_next, dc_next = dout
    gates = cache["gates"]
    squashed = np.tanh(cache["c_next"])
    dc = dc_next + dh_next * gates["o"] * (1.0 - squashed * squashed)
    dz = np.concatenate([
        dc * gates["c"] * gates["i"] * (1.0 - gates["i"]),
        dc * cache["c"] * gates["f"] * (1.0 - gates["f"]),
        dc * gates["i"] * (1.0 - gates["c"] * gates["c"]),
        dh_next * squashed * gates["o"] * (1.0 - gates["o"]),
    ], axis=1)
    return (np.dot(dz, cache["wx"].T), np.dot(dz, cache["wh"].T), dc * gates["f"], np.dot(cache["x"].T, dz),
            np.dot(cache["h"].T, dz), dz.sum(axis=0))


def lstm_forward(x, h0, c0, wx, wh, b):
    if np.ndim(x) != 3:
        raise ValueError(f"Expected a 3-D x. Received x.shape={np.shape(x)}.")
    n, steps, d = x.shape
    units = wh.shape[0]
    for name, value, shape in (("h0", h0, (n, units)), ("c0", c0, (n, units)), ("wx", wx, (d, 4 * units))):
        if np.shape(value) != shape:
            raise ValueError(f"Expected {name} of shape {shape}. Received {np.shape(value)}.")
    h, c, outputs, caches = h0, c0, [], []
    for t in range(steps):
        (h, c), step = lstm_step_forward(x[:, t, :], h, c, wx, wh, b)
        outputs.append(h)
        caches.append(step)
    return (np.stack(outputs, axis=1), h, c), caches


def lstm_backward(dout, cache):
    dh_all, dh_last, dc_last = dout
    dh_next, dc_next = dh_last, dc_last
    dxs, sums = [], None
    for t in range(len(cache) - 1, -1, -1):
        dx, dh_next, dc_next, *grads = lstm_step_backward((dh_all[:, t, :] + dh_next, dc_next), cache[t])
        dxs.insert(0, dx)
        sums = grads if sums is None else [s + g for s, g in zip(sums, grads)]
    return (np.stack(dxs, axis=1), dh_next, dc_next, *sums)
