import keras
import tensorflow as tf


def discriminator_loss(logits_real, logits_fake):
    ones = keras.ops.ones(keras.ops.shape(logits_real))
    zeros = keras.ops.zeros(keras.ops.shape(logits_fake))
    first = keras.ops.binary_crossentropy(ones, logits_real, from_logits=True)
    second = keras.ops.binary_crossentropy(zeros, logits_fake, from_logits=True)
    return keras.ops.mean(first) + keras.ops.mean(second)


def generator_loss(logits_fake):
    ones = keras.ops.ones(keras.ops.shape(logits_fake))
    return keras.ops.mean(keras.ops.binary_crossentropy(ones, logits_fake, from_logits=True))


def build_generator(latent_dim, hidden_units, data_dim):
    net = keras.Sequential(name="G")
    net.add(keras.Input(shape=(latent_dim,)))
    net.add(keras.layers.Dense(hidden_units))
    net.add(keras.layers.ReLU())
    net.add(keras.layers.Dense(hidden_units))
    net.add(keras.layers.ReLU())
    net.add(keras.layers.Dense(data_dim))
    return net


def build_discriminator(data_dim, hidden_units):
    net = keras.Sequential(name="D")
    net.add(keras.Input(shape=(data_dim,)))
    net.add(keras.layers.Dense(hidden_units))
    net.add(keras.layers.ReLU())
    net.add(keras.layers.Dense(hidden_units))
    net.add(keras.layers.ReLU())
    net.add(keras.layers.Dense(1))
    return net


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape_d:
        scores_real = discriminator(real, training=True)
        scores_fake = discriminator(generator(noise, training=True), training=True)
        d_loss = discriminator_loss(scores_real, scores_fake)
    d_weights = discriminator.trainable_weights
    d_optimizer.apply(tape_d.gradient(d_loss, d_weights), d_weights)
    with tf.GradientTape() as tape_g:
        scores = discriminator(generator(noise, training=True), training=True)
        g_loss = generator_loss(scores)
    g_weights = generator.trainable_weights
    g_optimizer.apply(tape_g.gradient(g_loss, g_weights), g_weights)
    return d_loss, g_loss
