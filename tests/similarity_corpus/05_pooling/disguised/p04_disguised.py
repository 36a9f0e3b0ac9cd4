# ruff: noqa
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pad_input(images, kh, kw, sh, sw, mode):
    """Pad for pooling."""
    oh, a, b = conv_geometry(images.shape[1], kh, sh, mode)
    ow, c, d = conv_geometry(images.shape[2], kw, sw, mode)
    return np.pad(images, [(0, 0), (a, b), (c, d), (0, 0)], mode="constant", constant_values=-np.inf), oh, ow, a, c


def conv_geometry(size, kernel_size, stride, padding):
    n = int(np.ceil(size / stride)) if padding == "same" else int(np.floor((size - kernel_size) / stride)) + 1
    pad = max((n - 1) * stride + kernel_size - size, 0) if padding == "same" else 0
    return n, pad // 2, pad - pad // 2


def max_pool2d_backward(dout, cache):
    imgs, kh, kw, sh, sw, mode = cache
    padded, oh, ow, a, c = pad_input(imgs, kh, kw, sh, sw, mode)
    views = sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow]
    n, h2, w2, ch = views.shape[:4]
    best = views.reshape(n, h2, w2, ch, kh * kw).argmax(axis=-1)
    dr, dc = np.divmod(best, kw)
    r_idx = np.arange(h2)[None, :, None, None] * sh + dr
    c_idx = np.arange(w2)[None, None, :, None] * sw + dc
    out = np.zeros(padded.shape)
    np.add.at(out, (np.arange(n)[:, None, None, None], r_idx, c_idx, np.arange(ch)[None, None, None, :]), dout)
    return out[:, a:a + imgs.shape[1], c:c + imgs.shape[2]]


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    padded, oh, ow, _, _ = pad_input(x, ph, pw, sh, sw, padding)
    views = sliding_window_view(padded, (ph, pw), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow]
    return views.max(axis=(-2, -1)), (x, ph, pw, sh, sw, padding)
