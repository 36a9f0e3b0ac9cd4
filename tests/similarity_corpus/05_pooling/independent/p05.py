# ruff: noqa: F821 - pool_arguments is the stub's, defined in the notebook
import numpy as np


def conv_geometry(size, kernel_size, stride, padding):
    result = None
    if padding == "valid":
        result = ((size - kernel_size) // stride + 1, 0, 0)
    else:
        length = size // stride + (1 if size % stride else 0)
        padding_total = (length - 1) * stride + kernel_size - size
        padding_total = padding_total if padding_total > 0 else 0
        result = (length, padding_total // 2, (padding_total + 1) // 2)
    return result


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    batch, height, width, channels = x.shape
    out_rows, above, below = conv_geometry(height, ph, sh, padding)
    out_cols, before, after = conv_geometry(width, pw, sw, padding)
    big = np.pad(x, ((0, 0), (above, below), (before, after), (0, 0)), constant_values=-np.inf)
    pooled = np.zeros((batch, out_rows, out_cols, channels))
    where = {}
    for row in range(out_rows):
        for col in range(out_cols):
            for k in range(channels):
                for item in range(batch):
                    block = big[item, row * sh:row * sh + ph, col * sw:col * sw + pw, k]
                    pos = np.argmax(block)
                    pooled[item, row, col, k] = block.flat[pos]
                    where[item, row, col, k] = (row * sh + pos // pw - above, col * sw + pos % pw - before)
    return pooled, (x.shape, where)


def max_pool2d_backward(dout, cache):
    shape, where = cache
    grad = np.zeros(shape)
    for (item, row, col, k), (r, c) in where.items():
        grad[item, r, c, k] += dout[item, row, col, k]
    return grad
