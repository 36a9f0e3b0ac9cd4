# ruff: noqa: F821, E741 - as_pair, check_padding and check_conv_inputs are the stub's, defined in the notebook; a student's `l`
import numpy as np
from numpy.lib.stride_tricks import as_strided


def conv_geometry(size, kernel_size, stride, padding):
    check_padding(padding)
    if padding == "valid" and kernel_size > size:
        raise ValueError(f"Expected kernel_size <= size with 'valid' padding. "
                         f"Received kernel_size={kernel_size}, size={size}.")
    out_size = -(-size // stride) if padding == "same" else (size - kernel_size) // stride + 1
    if padding == "valid":
        return out_size, 0, 0
    need = (out_size - 1) * stride + kernel_size - size
    need = need if need > 0 else 0
    return out_size, need // 2, need - need // 2


def im2col(xp, kh, kw, sh, sw, out_h, out_w):
    n, _, _, c = xp.shape
    a, b, d, e = xp.strides
    view = as_strided(xp, shape=(n, out_h, out_w, kh, kw, c), strides=(a, b * sh, d * sw, b, d, e))
    return view.reshape(n * out_h * out_w, kh * kw * c)


def conv2d_forward(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    n, height, width, channels = x.shape
    kh, kw, _, nf = w.shape
    oh, t, bt = conv_geometry(height, kh, sh, padding)
    ow, l, rt = conv_geometry(width, kw, sw, padding)
    xp = np.pad(x, ((0, 0), (t, bt), (l, rt), (0, 0)))
    out = np.zeros((n, oh, ow, nf))
    kernel = w.reshape(-1, nf)
    for row in range(oh):
        for col in range(ow):
            out[:, row, col] = xp[:, row * sh:row * sh + kh, col * sw:col * sw + kw].reshape(n, -1) @ kernel
    return out + b, (x, w, sh, sw, padding)


def conv2d_forward_fast(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    n, height, width, channels = x.shape
    kh, kw, _, nf = w.shape
    oh, t, bt = conv_geometry(height, kh, sh, padding)
    ow, l, rt = conv_geometry(width, kw, sw, padding)
    cols = im2col(np.pad(x, ((0, 0), (t, bt), (l, rt), (0, 0))), kh, kw, sh, sw, oh, ow)
    out = (cols @ w.reshape(-1, nf) + b).reshape(n, oh, ow, nf)
    return out, (x, w, sh, sw, padding)


def conv2d_backward(dout, cache):
    x, w, sh, sw, padding = cache
    n, height, width, channels = x.shape
    kh, kw, _, nf = w.shape
    oh, t, bt = conv_geometry(height, kh, sh, padding)
    ow, l, rt = conv_geometry(width, kw, sw, padding)
    xp = np.pad(x, ((0, 0), (t, bt), (l, rt), (0, 0)))
    kernel = w.reshape(-1, nf)
    dxp, dk = np.zeros(xp.shape), np.zeros(kernel.shape)
    for row in range(oh):
        for col in range(ow):
            piece = xp[:, row * sh:row * sh + kh, col * sw:col * sw + kw].reshape(n, -1)
            dk += piece.T @ dout[:, row, col]
            dxp[:, row * sh:row * sh + kh, col * sw:col * sw + kw] += (dout[:, row, col] @ kernel.T).reshape(
                n, kh, kw, channels)
    return dxp[:, t:t + height, l:l + width], dk.reshape(w.shape), dout.sum(axis=(0, 1, 2))
