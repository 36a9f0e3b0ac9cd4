# ruff: noqa: F821 - as_pair, check_padding and check_conv_inputs are the stub's, defined in the notebook
import numpy as np


def conv_geometry(size, kernel_size, stride, padding):
    check_padding(padding)
    if padding == "valid" and kernel_size > size:
        raise ValueError(f"Expected kernel_size <= size with 'valid' padding. "
                         f"Received kernel_size={kernel_size}, size={size}.")
    if padding == "valid":
        return 1 + (size - kernel_size) // stride, 0, 0
    if size % stride == 0:
        total = max(kernel_size - stride, 0)
    else:
        total = max(kernel_size - size % stride, 0)
    return (size - 1) // stride + 1, total // 2, total - total // 2


def conv2d_forward(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    H_out, top, bottom = conv_geometry(x.shape[1], w.shape[0], sh, padding)
    W_out, left, right = conv_geometry(x.shape[2], w.shape[1], sw, padding)
    x_padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    output = np.zeros((x.shape[0], H_out, W_out, w.shape[3]))
    for f in range(w.shape[3]):
        for i in range(H_out):
            for j in range(W_out):
                field = x_padded[:, i * sh:i * sh + w.shape[0], j * sw:j * sw + w.shape[1], :]
                output[:, i, j, f] = (field * w[None, :, :, :, f]).sum(axis=(1, 2, 3)) + b[f]
    return output, (x_padded, w, sh, sw, top, left, x.shape)


def conv2d_backward(dout, cache):
    x_padded, w, sh, sw, top, left, x_shape = cache
    dx_padded = np.zeros_like(x_padded, dtype=np.float64)
    dw = np.zeros_like(w, dtype=np.float64)
    for f in range(w.shape[3]):
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                field = x_padded[:, i * sh:i * sh + w.shape[0], j * sw:j * sw + w.shape[1], :]
                g = dout[:, i, j, f][:, None, None, None]
                dw[:, :, :, f] += (field * g).sum(axis=0)
                dx_padded[:, i * sh:i * sh + w.shape[0], j * sw:j * sw + w.shape[1], :] += g * w[None, :, :, :, f]
    dx = dx_padded[:, top:top + x_shape[1], left:left + x_shape[2], :]
    db = dout.reshape(-1, dout.shape[-1]).sum(axis=0)
    return dx, dw, db
