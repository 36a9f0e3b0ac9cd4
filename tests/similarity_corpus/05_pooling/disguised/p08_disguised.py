# ruff: noqa
import numpy as np


def max_pool2d_backward(dout, cache):
    img, (kh, kw, st_h, st_w), mode = cache
    grad = np.zeros_like(img, dtype=float)
    for r, q, row_sl, col_sl in iterate_windows(img.shape[1], img.shape[2], kh, kw, st_h, st_w, mode):
        area = img[:, row_sl, col_sl]
        bn, hh, ww, cc = area.shape
        pick = area.reshape(bn, hh * ww, cc).argmax(axis=1)
        hot = np.zeros((bn, hh * ww, cc))
        np.put_along_axis(hot, pick[:, None, :], 1.0, axis=1)
        grad[:, row_sl, col_sl] += hot.reshape(bn, hh, ww, cc) * dout[:, r:r + 1, q:q + 1]
    return grad


def iterate_windows(H, W, kh, kw, st_h, st_w, mode):
    Ho, top, _ = conv_geometry(H, kh, st_h, mode)
    Wo, left, _ = conv_geometry(W, kw, st_w, mode)
    for r in range(Ho):
        for q in range(Wo):
            row_sl = slice(max(0, r * st_h - top), min(H, r * st_h - top + kh))
            col_sl = slice(max(0, q * st_w - left), min(W, q * st_w - left + kw))
            yield r, q, row_sl, col_sl


def conv_geometry(size, kernel_size, stride, padding):
    match padding:
        case "valid":
            return (size - kernel_size) // stride + 1, 0, 0
        case "same":
            n = -(size // -stride)
            extra = max((n - 1) * stride + kernel_size - size, 0)
            return n, extra // 2, extra - extra // 2


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    Ho = conv_geometry(x.shape[1], ph, sh, padding)[0]
    Wo = conv_geometry(x.shape[2], pw, sw, padding)[0]
    res = np.zeros((x.shape[0], Ho, Wo, x.shape[3]), dtype=x.dtype)
    for r, q, row_sl, col_sl in iterate_windows(x.shape[1], x.shape[2], ph, pw, sh, sw, padding):
        res[:, r, q] = np.amax(x[:, row_sl, col_sl], axis=(1, 2))
    return res, (x, (ph, pw, sh, sw), padding)
