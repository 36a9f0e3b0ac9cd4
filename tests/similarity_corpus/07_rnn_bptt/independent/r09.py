import numpy as np


def rnn_step_forward(x, h_prev, wx, wh, b):
    h_next = np.tanh(np.matmul(x, wx) + np.matmul(h_prev, wh) + b)
    return h_next, dict(inputs=x, previous=h_prev, kernel=wx, recurrent=wh, state=h_next)


def rnn_step_backward(dh_next, cache):
    d_pre = dh_next * (1 - np.power(cache["state"], 2))
    return (np.matmul(d_pre, cache["kernel"].T), np.matmul(d_pre, cache["recurrent"].T),
            np.matmul(cache["inputs"].T, d_pre), np.matmul(cache["previous"].T, d_pre), d_pre.sum(axis=0))


def rnn_forward(x, h0, wx, wh, b):
    if x.ndim != 3 or h0.shape != (x.shape[0], wh.shape[0]):
        raise ValueError(f"Expected x (N, T, D) and h0 (N, H). Received x.shape={np.shape(x)}, "
                         f"h0.shape={np.shape(h0)}.")
    caches, h = [], h0
    states = np.zeros((x.shape[0], x.shape[1], wh.shape[0]))
    for t in range(x.shape[1]):
        h, c = rnn_step_forward(x[:, t, :], h, wx, wh, b)
        states[:, t, :] = h
        caches.append(c)
    return states, caches


def rnn_backward(dh, cache):
    acc = [np.zeros_like(cache[0]["kernel"]), np.zeros_like(cache[0]["recurrent"]), 0.0]
    dx = np.zeros(dh.shape[:2] + (cache[0]["kernel"].shape[0],))
    dh_prev = np.zeros_like(dh[:, 0, :])
    for t in reversed(range(dh.shape[1])):
        dx[:, t, :], dh_prev, dwx, dwh, db = rnn_step_backward(dh[:, t, :] + dh_prev, cache[t])
        acc = [acc[0] + dwx, acc[1] + dwh, acc[2] + db]
    return dx, dh_prev, acc[0], acc[1], acc[2]


def gradient_norms_by_distance(x, h0, wx, wh, b):
    states, caches = rnn_forward(x, h0, wx, wh, b)
    last_only = np.zeros_like(states)
    last_only[:, -1, :] = 1.0
    dx = rnn_backward(last_only, caches)[0]
    return np.linalg.norm(dx.transpose(1, 0, 2).reshape(x.shape[1], -1), axis=1)[::-1]
