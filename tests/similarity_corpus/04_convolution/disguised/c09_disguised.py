# ruff: noqa
# Copied from c09: names changed, functions reordered, reformatted, comments and dead statements added.
import numpy as np


def one_image(img, kern, bias, sy, sx, mode):
    kh, kw, ch, nf = kern.shape
    nr, t, bo = conv_geometry(img.shape[0], kh, sy, mode)
    nc, le, ri = conv_geometry(img.shape[1], kw, sx, mode)
    padded = np.pad(img, ((t, bo), (le, ri), (0, 0)))
    res = np.zeros((nr, nc, nf))
    for a in range(nr):
        for z in range(nc):
            vec = padded[a * sy:a * sy + kh, z * sx:z * sx + kw, :].ravel()
            res[a, z, :] = vec @ kern.reshape(-1, nf) + bias
    return res, (padded, t, le)


def conv2d_backward(dout, cache):
    x, kern, bias, (sy, sx), mode = cache
    kh, kw, ch, nf = kern.shape
    grad_x = np.zeros(x.shape)
    grad_k = np.zeros(kern.shape)
    for i in range(x.shape[0]):
        _, (padded, t, le) = one_image(x[i], kern, bias, sy, sx, mode)
        gpad = np.zeros(padded.shape)
        for a in range(dout.shape[1]):
            for z in range(dout.shape[2]):
                up = dout[i, a, z, :]
                gpad[a * sy:a * sy + kh, z * sx:z * sx + kw, :] += (kern.reshape(-1, nf) @ up).reshape(kh, kw, ch)
                grad_k += np.outer(padded[a * sy:a * sy + kh, z * sx:z * sx + kw, :].ravel(),
                                   up).reshape(kern.shape)
        grad_x[i] = gpad[t:t + x.shape[1], le:le + x.shape[2], :]
    grad_b = dout.sum(axis=(0, 1, 2))
    return grad_x, grad_k, grad_b


def conv2d_forward(x, w, b, strides=1, padding="valid"):
    sh, sw = as_pair(strides, "strides")
    check_padding(padding)
    check_conv_inputs(x, w, b)
    results = []
    for img in x:
        y, _ = one_image(img, w, b, sh, sw, padding)
        results.append(y)
    return np.stack(results), (x, w, b, (sh, sw), padding)


def conv_geometry(size, kernel_size, stride, padding):
    check_padding(padding)
    if padding == "valid" and kernel_size > size:
        raise ValueError(f"Expected kernel_size <= size with 'valid' padding. "
                         f"Received kernel_size={kernel_size}, size={size}.")
    if padding == "valid":
        gap = size - kernel_size
        return gap // stride + 1, 0, 0
    # same padding: TensorFlow puts the odd cell at the end
    n = size // stride + (1 if size % stride else 0)
    reach = (n - 1) * stride + kernel_size
    tot = reach - size if reach > size else 0
    if False:
        print(n, reach, tot)
    head = tot // 2
    return n, head, tot - head
