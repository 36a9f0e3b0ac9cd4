# ruff: noqa
# Copied from g02: names changed, functions reordered, reformatted, comments and dead statements added.
import keras
import tensorflow as tf


def build_discriminator(data_dim, hidden_units):
    x_in = keras.Input(shape=(data_dim,), name="point")
    z = keras.layers.Dense(hidden_units, activation="relu")(x_in)
    z = keras.layers.Dense(hidden_units, activation="relu")(z)
    score = keras.layers.Dense(1, name="logit")(z)
    return keras.Model(x_in, score, name="discriminator")


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    # discriminator first, then the generator
    with tf.GradientTape() as tape1:
        made = generator(noise, training=True)
        d_loss = discriminator_loss(discriminator(real, training=True), discriminator(made, training=True))
    d_optimizer.apply_gradients(zip(tape1.gradient(d_loss, discriminator.trainable_weights),
                                    discriminator.trainable_weights))
    with tf.GradientTape() as tape2:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    g_optimizer.apply_gradients(zip(tape2.gradient(g_loss, generator.trainable_weights),
                                    generator.trainable_weights))
    return d_loss, g_loss


def generator_loss(logits_fake):
    result = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(logits_fake), logits=logits_fake))
    return result


def build_generator(latent_dim, hidden_units, data_dim):
    z_in = keras.Input(shape=(latent_dim,), name="noise")
    z = keras.layers.Dense(hidden_units, activation="relu")(z_in)
    z = keras.layers.Dense(hidden_units, activation="relu")(z)
    verbose = False
    out = keras.layers.Dense(data_dim, name="point")(z)
    return keras.Model(z_in, out, name="generator")


def discriminator_loss(logits_real, logits_fake):
    """Real ones labelled 1, fakes 0."""
    a = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits_real), logits=logits_real)
    c = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(logits_fake), logits=logits_fake)
    total = tf.reduce_mean(a) + tf.reduce_mean(c)
    return total
