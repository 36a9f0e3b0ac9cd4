import keras
import tensorflow as tf
from keras import ops


def discriminator_loss(logits_real, logits_fake):
    # BCE(1, z) = softplus(-z) and BCE(0, z) = softplus(z), each averaged over its batch
    loss = ops.mean(ops.softplus(-logits_real)) + ops.mean(ops.softplus(logits_fake))
    return loss


def generator_loss(logits_fake):
    loss = ops.mean(ops.softplus(-logits_fake))
    return loss


def _stack(model, width, depth):
    for _ in range(depth):
        model.add(keras.layers.Dense(width, activation="relu"))
    return model


def build_generator(latent_dim, hidden_units, data_dim):
    model = keras.Sequential()
    model.add(keras.Input((latent_dim,)))
    _stack(model, hidden_units, 2)
    model.add(keras.layers.Dense(data_dim))
    return model


def build_discriminator(data_dim, hidden_units):
    model = keras.Sequential()
    model.add(keras.Input((data_dim,)))
    _stack(model, hidden_units, 2)
    model.add(keras.layers.Dense(1))
    return model


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables
    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real, training=True),
                                    discriminator(generator(noise, training=True), training=True))
    d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
    return d_loss, g_loss
