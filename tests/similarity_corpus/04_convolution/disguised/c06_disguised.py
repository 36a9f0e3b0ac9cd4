# ruff: noqa
# Copied from c06: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def conv2d_backward(dout, cache):
    inputs, kernel, (sy, sx), mode = cache
    kh, kw, ch, nf = kernel.shape
    padded, n_rows, n_cols, (pt, pl) = add_padding(inputs, kh, kw, sy, sx, mode)
    k2d = kernel.reshape(kh * kw * ch, nf)
    grad_padded = np.zeros(padded.shape)
    grad_k2d = np.zeros(k2d.shape)
    for r, c, rsl, csl in positions(padded, kh, kw, sy, sx, n_rows, n_cols):
        up = dout[:, r, c, :]
        grad_k2d += padded[:, rsl, csl, :].reshape(inputs.shape[0], -1).T.dot(up)
        grad_padded[:, rsl, csl, :] += up.dot(k2d.T).reshape(inputs.shape[0], kh, kw, ch)
    grad_in = grad_padded[:, pt:pt + inputs.shape[1], pl:pl + inputs.shape[2], :]
    return grad_in, grad_k2d.reshape(kernel.shape), dout.sum(axis=0).sum(axis=0).sum(axis=0)


def add_padding(x, kh, kw, sh, sw, padding):
    nr, top, bot = conv_geometry(x.shape[1], kh, sh, padding)
    nc, lft, rgt = conv_geometry(x.shape[2], kw, sw, padding)
    return np.pad(x, ((0, 0), (top, bot), (lft, rgt), (0, 0))), nr, nc, (top, lft)


def conv_geometry(size, kernel_size, stride, padding):
    check_padding(padding)
    if padding == "valid" and kernel_size > size:
        raise ValueError(f"Expected kernel_size <= size with 'valid' padding. "
                         f"Received kernel_size={kernel_size}, size={size}.")
    span = size if padding == "same" else size - kernel_size + 1
    count = (span + stride - 1) // stride
    if padding == "valid":
        return count, 0, 0
    more = max(kernel_size - (size - (count - 1) * stride), 0)
    return count, more // 2, (more + 1) // 2


def conv2d_forward(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    kh, kw, ch, nf = w.shape
    padded, n_rows, n_cols, _ = add_padding(x, kh, kw, sh, sw, padding)
    k2d = w.reshape(kh * kw * ch, nf)
    y = np.zeros((x.shape[0], n_rows, n_cols, nf))
    for r, c, rsl, csl in positions(padded, kh, kw, sh, sw, n_rows, n_cols):
        y[:, r, c, :] = padded[:, rsl, csl, :].reshape(x.shape[0], -1).dot(k2d)
    y += b.reshape(1, 1, 1, -1)
    return y, (x, w, (sh, sw), padding)


def positions(xp, kh, kw, sh, sw, rows, cols):
    # every output cell and the input window it reads
    for r in range(rows):
        for c in range(cols):
            yield r, c, slice(r * sh, r * sh + kh), slice(c * sw, c * sw + kw)
