# ruff: noqa: F821 - sigmoid is the stub's, defined in the notebook
import numpy as np

GATES = ("input", "forget", "cell", "output")


def lstm_step_forward(x, h_prev, c_prev, wx, wh, b):
    z = x @ wx + h_prev @ wh + b
    blocks = dict(zip(GATES, np.split(z, 4, axis=1)))
    act = {name: (np.tanh(v) if name == "cell" else sigmoid(v)) for name, v in blocks.items()}
    c_next = act["forget"] * c_prev + act["input"] * act["cell"]
    h_next = act["output"] * np.tanh(c_next)
    return (h_next, c_next), {"act": act, "x": x, "h_prev": h_prev, "c_prev": c_prev, "c_next": c_next,
                              "wx": wx, "wh": wh}


def lstm_step_backward(dout, cache):
    dh_next, dc_next = dout
    act = cache["act"]
    tanh_c = np.tanh(cache["c_next"])
    dc = dc_next + dh_next * act["output"] * (1 - tanh_c ** 2)
    upstream = {"input": dc * act["cell"], "forget": dc * cache["c_prev"], "cell": dc * act["input"],
                "output": dh_next * tanh_c}
    local = {name: (1 - a ** 2 if name == "cell" else a * (1 - a)) for name, a in act.items()}
    dz = np.concatenate([upstream[name] * local[name] for name in GATES], axis=1)
    dx = dz @ cache["wx"].T
    dh_prev = dz @ cache["wh"].T
    return dx, dh_prev, dc * act["forget"], cache["x"].T @ dz, cache["h_prev"].T @ dz, dz.sum(axis=0)


def lstm_forward(x, h0, c0, wx, wh, b):
    if len(np.shape(x)) != 3:
        raise ValueError(f"Expected x with shape (N, T, D). Received {np.shape(x)}.")
    expected = (x.shape[0], wh.shape[0])
    if h0.shape != expected or c0.shape != expected:
        raise ValueError(f"Expected h0 and c0 of shape {expected}. Received {h0.shape} and {c0.shape}.")
    h, c = h0, c0
    out, caches = [], []
    for t in range(x.shape[1]):
        (h, c), cache = lstm_step_forward(x[:, t], h, c, wx, wh, b)
        out.append(h)
        caches.append(cache)
    return (np.transpose(np.array(out), (1, 0, 2)), h, c), caches


def lstm_backward(dout, cache):
    dh, dh_final, dc_final = dout
    gh, gc = dh_final, dc_final
    gx = [None] * len(cache)
    acc = {"wx": 0, "wh": 0, "b": 0}
    for t in range(len(cache) - 1, -1, -1):
        gx[t], gh, gc, dwx, dwh, db = lstm_step_backward((gh + dh[:, t], gc), cache[t])
        acc["wx"] = acc["wx"] + dwx
        acc["wh"] = acc["wh"] + dwh
        acc["b"] = acc["b"] + db
    return np.stack(gx, axis=1), gh, gc, acc["wx"], acc["wh"], acc["b"]
