# ruff: noqa
import numpy as np


def max_pool2d_backward(dout, cache):
    # route each gradient to the argmax of its window
    img, (kh, kw), (st_h, st_w), mode = cache
    bs, H, W, C = img.shape
    Ho, p_top, p_bot = conv_geometry(H, kh, st_h, mode)
    Wo, p_left, p_right = conv_geometry(W, kw, st_w, mode)
    padded = np.pad(img, ((0, 0), (p_top, p_bot), (p_left, p_right), (0, 0)), constant_values=-np.inf)
    grad = np.zeros_like(padded)
    for n in range(bs):
        for r in range(Ho):
            for q in range(Wo):
                for ch in range(C):
                    win = padded[n, r * st_h:r * st_h + kh, q * st_w:q * st_w + kw, ch]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    grad[n, r * st_h + a, q * st_w + b, ch] += dout[n, r, q, ch]
    return grad[:, p_top:p_top + H, p_left:p_left + W, :]


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    bs, H, W, C = x.shape
    Ho, p_top, p_bot = conv_geometry(H, ph, sh, padding)
    Wo, p_left, p_right = conv_geometry(W, pw, sw, padding)
    padded = np.pad(x, ((0, 0), (p_top, p_bot), (p_left, p_right), (0, 0)),
                    constant_values=-np.inf)
    result = np.empty((bs, Ho, Wo, C))
    for r in range(Ho):
        for q in range(Wo):
            win = padded[:, r * sh:r * sh + ph, q * sw:q * sw + pw, :]
            result[:, r, q, :] = win.max(axis=(1, 2))
    saved = (x, (ph, pw), (sh, sw), padding)
    return result, saved


def conv_geometry(size, kernel_size, stride, padding):
    if padding == "valid":
        return (size - kernel_size) // stride + 1, 0, 0
    n_out = -(-size // stride)
    extra = max((n_out - 1) * stride + kernel_size - size, 0)
    ignored = extra * 2
    return n_out, extra // 2, extra - extra // 2
