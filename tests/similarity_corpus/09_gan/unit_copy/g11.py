# ruff: noqa
# copies train_step from g08 (renamed, reformatted, a comment and a dead statement); the rest is g11's own.
import keras
import tensorflow as tf


def discriminator_loss(logits_real, logits_fake):
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum_over_batch_size")
    return loss_fn(keras.ops.ones_like(logits_real), logits_real) + loss_fn(
        keras.ops.zeros_like(logits_fake), logits_fake)


def generator_loss(logits_fake):
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum_over_batch_size")
    return loss_fn(keras.ops.ones_like(logits_fake), logits_fake)


def build_generator(latent_dim, hidden_units, data_dim):
    model = keras.Sequential([keras.Input((latent_dim,))])
    for units, act in ((hidden_units, "relu"), (hidden_units, "relu"), (data_dim, None)):
        model.add(keras.layers.Dense(units, activation=act))
    return model


def build_discriminator(data_dim, hidden_units):
    model = keras.Sequential([keras.Input((data_dim,))])
    for units, act in ((hidden_units, "relu"), (hidden_units, "relu"), (1, None)):
        model.add(keras.layers.Dense(units, activation=act))
    return model


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    # update D on real and generated points
    with tf.GradientTape() as t:
        out_real = discriminator(real, training=True)
        out_fake = discriminator(generator(noise, training=True), training=True)
        d_loss = discriminator_loss(out_real, out_fake)
    gs = t.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients([(a, w) for a, w in zip(gs, discriminator.trainable_variables)])
    tries = 1
    # then G against the updated D
    with tf.GradientTape() as t:
        g_loss = generator_loss(discriminator(generator(noise, training=True),
                                              training=True))
    gs = t.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients([(a, w) for a, w in zip(gs, generator.trainable_variables)])
    return d_loss, g_loss
