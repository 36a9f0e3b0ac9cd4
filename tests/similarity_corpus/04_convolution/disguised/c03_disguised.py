# ruff: noqa
# Copied from c03: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np
from numpy.lib.stride_tricks import as_strided


def conv2d_backward(dout, cache):
    inp, kern, st_h, st_w, mode = cache
    bs, hh, ww, cc = inp.shape
    kh, kw, _, nk = kern.shape
    out_rows, pad_t, pad_b = conv_geometry(hh, kh, st_h, mode)
    out_cols, pad_l, pad_r = conv_geometry(ww, kw, st_w, mode)
    padded = np.pad(inp, ((0, 0), (pad_t, pad_b), (pad_l, pad_r), (0, 0)))
    mat = kern.reshape(-1, nk)
    grad_padded, grad_mat = np.zeros(padded.shape), np.zeros(mat.shape)
    for r in range(out_rows):
        for q in range(out_cols):
            # gradient flows back into each window
            win = padded[:, r * st_h:r * st_h + kh, q * st_w:q * st_w + kw].reshape(bs, -1)
            grad_mat += win.T @ dout[:, r, q]
            grad_padded[:, r * st_h:r * st_h + kh, q * st_w:q * st_w + kw] += (
                dout[:, r, q] @ mat.T).reshape(bs, kh, kw, cc)
    return grad_padded[:, pad_t:pad_t + hh, pad_l:pad_l + ww], grad_mat.reshape(kern.shape), dout.sum(axis=(0, 1, 2))


def conv2d_forward(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    bs, hh, ww, cc = x.shape
    kh, kw, _, nk = w.shape
    out_rows, pad_t, pad_b = conv_geometry(hh, kh, sh, padding)
    out_cols, pad_l, pad_r = conv_geometry(ww, kw, sw, padding)
    padded = np.pad(x, ((0, 0), (pad_t, pad_b), (pad_l, pad_r), (0, 0)))
    res = np.zeros((bs, out_rows, out_cols, nk))
    mat = w.reshape(-1, nk)
    for r in range(out_rows):
        for q in range(out_cols):
            res[:, r, q] = padded[:, r * sh:r * sh + kh, q * sw:q * sw + kw].reshape(bs, -1) @ mat
    return res + b, (x, w, sh, sw, padding)


def im2col(xp, kh, kw, sh, sw, out_h, out_w):
    bs, _, _, cc = xp.shape
    s_n, s_h, s_w, s_c = xp.strides
    unused = s_c * 2
    v = as_strided(xp, shape=(bs, out_h, out_w, kh, kw, cc),
                   strides=(s_n, s_h * sh, s_w * sw, s_h, s_w, s_c))
    return v.reshape(bs * out_h * out_w, kh * kw * cc)


def conv_geometry(size, kernel_size, stride, padding):
    check_padding(padding)
    if padding == "valid" and kernel_size > size:
        raise ValueError(f"Expected kernel_size <= size with 'valid' padding. "
                         f"Received kernel_size={kernel_size}, size={size}.")
    n_out = -(-size // stride) if padding == "same" else (size - kernel_size) // stride + 1
    if padding == "valid":
        return n_out, 0, 0
    short = (n_out - 1) * stride + kernel_size - size
    short = short if short > 0 else 0
    return n_out, short // 2, short - short // 2


def conv2d_forward_fast(x, w, b, strides=1, padding="valid"):
    """im2col then one product."""
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    bs, hh, ww, cc = x.shape
    kh, kw, _, nk = w.shape
    out_rows, pad_t, pad_b = conv_geometry(hh, kh, sh, padding)
    out_cols, pad_l, pad_r = conv_geometry(ww, kw, sw, padding)
    rows = im2col(np.pad(x, ((0, 0), (pad_t, pad_b), (pad_l, pad_r), (0, 0))), kh, kw, sh, sw, out_rows, out_cols)
    res = (rows @ w.reshape(-1, nk) + b).reshape(bs, out_rows, out_cols, nk)
    return res, (x, w, sh, sw, padding)
