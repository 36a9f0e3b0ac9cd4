# ruff: noqa
# Copied from g06: names changed, functions reordered, reformatted, comments and dead statements added.
import keras
import tensorflow as tf


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as t1:
        on_real = discriminator(real, training=True)
        on_fake = discriminator(generator(noise, training=True), training=True)
        d_loss = discriminator_loss(on_real, on_fake)
    dw = discriminator.trainable_weights
    d_optimizer.apply(t1.gradient(d_loss, dw), dw)
    with tf.GradientTape() as t2:
        s = discriminator(generator(noise, training=True), training=True)
        g_loss = generator_loss(s)
    gw = generator.trainable_weights
    g_optimizer.apply(t2.gradient(g_loss, gw), gw)
    return d_loss, g_loss


def build_discriminator(data_dim, hidden_units):
    model = keras.Sequential(name="D")
    model.add(keras.Input(shape=(data_dim,)))
    # two hidden layers with separate activations
    model.add(keras.layers.Dense(hidden_units)); model.add(keras.layers.ReLU())
    model.add(keras.layers.Dense(hidden_units)); model.add(keras.layers.ReLU())
    model.add(keras.layers.Dense(1))
    return model


def generator_loss(logits_fake):
    target = keras.ops.ones(keras.ops.shape(logits_fake))
    return keras.ops.mean(keras.ops.binary_crossentropy(target, logits_fake, from_logits=True))


def discriminator_loss(logits_real, logits_fake):
    t_real = keras.ops.ones(keras.ops.shape(logits_real))
    t_fake = keras.ops.zeros(keras.ops.shape(logits_fake))
    a = keras.ops.binary_crossentropy(t_real, logits_real, from_logits=True)
    c = keras.ops.binary_crossentropy(t_fake, logits_fake, from_logits=True)
    if False:
        print(a, c)
    return keras.ops.mean(a) + keras.ops.mean(c)


def build_generator(latent_dim, hidden_units, data_dim):
    model = keras.Sequential(name="G")
    model.add(keras.Input(shape=(latent_dim,)))
    model.add(keras.layers.Dense(hidden_units)); model.add(keras.layers.ReLU())
    model.add(keras.layers.Dense(hidden_units)); model.add(keras.layers.ReLU())
    model.add(keras.layers.Dense(data_dim))
    return model
