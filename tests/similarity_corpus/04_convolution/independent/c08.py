# ruff: noqa: F821 - as_pair, check_padding and check_conv_inputs are the stub's, defined in the notebook
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_geometry(size, kernel_size, stride, padding):
    check_padding(padding)
    if padding == "valid" and kernel_size > size:
        raise ValueError(f"Expected kernel_size <= size with 'valid' padding. "
                         f"Received kernel_size={kernel_size}, size={size}.")
    if padding == "same":
        out = int(np.ceil(size / stride))
        both = np.maximum((out - 1) * stride + kernel_size - size, 0)
        first = int(both) // 2
        return out, first, int(both) - first
    return int((size - kernel_size) / stride) + 1, 0, 0


def conv2d_forward(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    oh, pt, pb = conv_geometry(x.shape[1], w.shape[0], sh, padding)
    ow, pl, pr = conv_geometry(x.shape[2], w.shape[1], sw, padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    views = sliding_window_view(xp, (w.shape[0], w.shape[1]), axis=(1, 2))[:, ::sh, ::sw][:, :oh, :ow]
    out = np.einsum("nhwcij,ijcf->nhwf", views, w) + b
    return out, (xp, w, (sh, sw), (pt, pl), x.shape)


def conv2d_backward(dout, cache):
    xp, w, (sh, sw), (pt, pl), shape = cache
    views = sliding_window_view(xp, (w.shape[0], w.shape[1]), axis=(1, 2))[:, ::sh, ::sw]
    views = views[:, :dout.shape[1], :dout.shape[2]]
    dw = np.einsum("nhwcij,nhwf->ijcf", views, dout)
    db = dout.sum(axis=(0, 1, 2))
    dxp = np.zeros(xp.shape)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            dxp[:, i * sh:i * sh + w.shape[0], j * sw:j * sw + w.shape[1], :] += np.einsum(
                "nf,ijcf->nijc", dout[:, i, j, :], w)
    return dxp[:, pt:pt + shape[1], pl:pl + shape[2], :], dw, db
