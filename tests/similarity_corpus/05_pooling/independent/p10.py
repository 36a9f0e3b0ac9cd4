# ruff: noqa: F821 - pool_arguments is the stub's, defined in the notebook
import numpy as np


def conv_geometry(size, kernel_size, stride, padding):
    if padding == "valid":
        positions = list(range(0, size - kernel_size + 1, stride))
        return len(positions), 0, 0
    positions = list(range(0, size, stride))
    overflow = positions[-1] + kernel_size - size
    overflow = max(overflow, 0)
    return len(positions), overflow // 2, overflow - overflow // 2


def max_pool2d_forward(x, pool_size=2, strides=None, padding="valid"):
    (ph, pw), (sh, sw) = pool_arguments(x, pool_size, strides, padding)
    outputs, masks = [], []
    height_out, pad_h, _ = conv_geometry(x.shape[1], ph, sh, padding)
    width_out, pad_w, _ = conv_geometry(x.shape[2], pw, sw, padding)
    for image in x:
        layer = np.full((height_out, width_out, x.shape[3]), -np.inf)
        mask = np.zeros(image.shape + (height_out, width_out), dtype=bool)
        for oy in range(height_out):
            for ox in range(width_out):
                y0, x0 = oy * sh - pad_h, ox * sw - pad_w
                ys, xs = slice(max(y0, 0), y0 + ph), slice(max(x0, 0), x0 + pw)
                patch = image[ys, xs]
                layer[oy, ox] = patch.max(axis=(0, 1))
                flat = patch.reshape(-1, patch.shape[-1]).argmax(axis=0)
                for ch, k in enumerate(flat):
                    mask[ys.start + k // patch.shape[1], xs.start + k % patch.shape[1], ch, oy, ox] = True
        outputs.append(layer)
        masks.append(mask)
    return np.array(outputs), masks


def max_pool2d_backward(dout, cache):
    return np.array([np.einsum("hwcyx,yxc->hwc", mask, grad) for mask, grad in zip(cache, dout)])
