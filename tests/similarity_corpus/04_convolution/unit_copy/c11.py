# ruff: noqa
# copies conv2d_backward from c05 (renamed, reformatted, a comment and a dead statement); the rest is c11's own.
import numpy as np


def conv_geometry(size, kernel_size, stride, padding):
    check_padding(padding)
    if padding == "valid" and kernel_size > size:
        raise ValueError(f"Expected kernel_size <= size with 'valid' padding. "
                         f"Received kernel_size={kernel_size}, size={size}.")
    if padding == "same":
        result = size // stride if size % stride == 0 else size // stride + 1
        overhang = max((result - 1) * stride + kernel_size - size, 0)
        return result, overhang // 2, overhang - overhang // 2
    return (size - kernel_size) // stride + 1, 0, 0


def conv2d_forward(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    n_img = x.shape[0]
    hk, wk, n_in, n_out = w.shape
    rows, pad_up, pad_down = conv_geometry(x.shape[1], hk, sh, padding)
    cols, pad_lt, pad_rt = conv_geometry(x.shape[2], wk, sw, padding)
    big = np.zeros((n_img, x.shape[1] + pad_up + pad_down, x.shape[2] + pad_lt + pad_rt, n_in))
    big[:, pad_up:pad_up + x.shape[1], pad_lt:pad_lt + x.shape[2]] = x
    y = np.empty((n_img, rows, cols, n_out))
    for r in range(rows):
        for c in range(cols):
            block = big[:, r * sh:r * sh + hk, c * sw:c * sw + wk]
            y[:, r, c] = np.tensordot(block, w, axes=3) + b
    return y, (x, w, sh, sw, padding)


def conv2d_backward(dout, cache):
    inp, kern, st_y, st_x, mode = cache
    # same geometry as the forward pass
    nr, top, bot = conv_geometry(inp.shape[1], kern.shape[0], st_y, mode)
    nc, lft, rgt = conv_geometry(inp.shape[2], kern.shape[1], st_x, mode)
    padded = np.pad(inp, ((0, 0), (top, bot), (lft, rgt), (0, 0)),
                    mode="constant")
    g_pad = np.zeros_like(padded, dtype=float)
    g_kern = np.zeros_like(kern, dtype=float)
    for r in range(nr):
        r0 = r * st_y
        for c in range(nc):
            c0 = c * st_x
            patch = padded[:, r0:r0 + kern.shape[0], c0:c0 + kern.shape[1], :]
            g_kern += np.einsum("nijc,nf->ijcf", patch, dout[:, r, c, :])
            g_pad[:, r0:r0 + kern.shape[0], c0:c0 + kern.shape[1], :] += np.einsum(
                "nf,ijcf->nijc", dout[:, r, c, :], kern)
    check = g_pad.shape
    g_inp = g_pad[:, top:top + inp.shape[1], lft:lft + inp.shape[2], :]
    g_bias = np.einsum("nhwf->f", dout)
    return g_inp, g_kern, g_bias
